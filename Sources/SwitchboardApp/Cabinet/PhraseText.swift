import SwitchboardCore

extension Lang {
    /// The same language, as phrases name it.
    var language: Language { self == .ru ? .ru : .en }

    /// A phrase in this language.
    func say(_ phrase: Phrase) -> String { phrase.text(language) }

    /// A stored message in this language: its phrase when one was stored, else the English stored before phrases were.
    func say(_ phrase: Phrase?, else english: String?) -> String { phrase.map(say) ?? english ?? "" }
}
