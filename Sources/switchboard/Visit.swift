import ArgumentParser
import Foundation
import SwitchboardSimulator

/// `switchboard visit`: a tenant's site posting to a running Switchboard, as its own form and chat would (issue 14).
struct Visit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a request (заявка) or a chat to a running Switchboard, as a tenant's site would.",
        discussion: "The site's key is in GET /api/v1/sites. `request` sends one form; `chat` plays a short chat and finishes it.")

    @Option(help: "Switchboard's address.") var url = "http://127.0.0.1:8080"
    @Option(help: "The site's public key (Site.key).") var site: String
    @Option(help: "The visitor's name.") var name = "Ирина"
    @Option(help: "The visitor's phone number.") var phone = "+79031234567"
    @Option(help: "The visitor's e-mail.") var email: String?
    @Option(help: "The request's type (one of the site's request types, when it lists some).") var type: String?
    @Option(help: "The message.") var message = "Перезвоните, пожалуйста"
    @Option(help: "utm_source of the page the visitor came to.") var utmSource: String?
    @Argument(help: "request or chat.") var what = "request"

    func run() async throws {
        let visitor = SiteVisitor(baseURL: url, siteKey: site)
        switch what {
        case "request":
            let reply = try await visitor.sendRequest(name: name, phone: phone, email: email, type: type, message: message,
                                                      utm: utmSource.map { ["utm_source": $0] } ?? [:])
            print("\(reply.status) \(reply.body)")
        case "chat":
            let replies = try await visitor.playChat(name: name, phone: phone, lines: [("visitor", message), ("operator", "Здравствуйте! Чем помочь?")])
            for r in replies { print("\(r.status) \(r.body)") }
        default:
            throw ValidationError("what is request or chat")
        }
    }
}
