import SwitchboardCore

extension Phrase {
    /// A phrase for a test's own failures (a stand-in CRM's outage): the same text in both languages.
    static func test(_ text: String) -> Phrase { Phrase(code: "test", en: text, ru: text) }
}
