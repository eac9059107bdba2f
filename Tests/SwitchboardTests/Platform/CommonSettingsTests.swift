import Foundation
import Testing
import SwitchboardCore
import SwitchboardCRM

/// Every CRM's settings carry the common settings (decision 0006 §2) under the keys generic code reads.
@Suite("Common settings of every CRM")
struct CommonSettingsTests {
    @Test("each CRM's settings document reads as the common settings its typed settings give")
    func commonOfEveryCRM() throws {
        func json<S: CRMSettings>(_ s: S) throws -> CommonSettings { CommonSettings(json: try JSON.decode(JSONValue.self, from: JSON.string(s))) }
        let ctc = ClickToCallSettings(callerId: "+74950000000", overrideCallerId: true)
        var amo = AmoSettings(personalManager: true)
        amo.clickToCall = ctc
        var b24 = B24Settings()
        b24.incoming.personalManager = true
        b24.clickToCall = ctc
        var mp = MegaplanSettings()
        mp.personalManager = true
        mp.lineFilter.enabled = true
        mp.lineFilter.numbers = ["+74951234567"]
        var ms = MSSettings()
        ms.lines = ["+74951234567"]
        ms.showInternalCalls = true
        ms.clickToCall = ctc
        #expect(try json(amo) == amo.common && amo.common.personalManager && amo.common.clickToCall == ctc)
        #expect(try json(b24) == b24.common && b24.common.personalManager)
        #expect(try json(mp) == mp.common && mp.common.virtualNumbers == ["+74951234567"])
        #expect(try json(ms) == ms.common && ms.common.internalCalls && !ms.common.personalManager)
        mp.lineFilter.enabled = false
        #expect(try json(mp) == mp.common && mp.common.virtualNumbers == nil)
        #expect(try json(MSSettings()) == MSSettings().common && MSSettings().common == CommonSettings())
    }
}
