import Testing
@testable import SwitchboardStorage

@Suite("PostgreSQL placeholders: `?` becomes `$1…$n`, quoted text is left alone")
struct PlaceholderTests {
    @Test("numbers past 9 and 99, quotes with question marks, non-ASCII text")
    func numbering() {
        #expect(PostgresDatabase.numberPlaceholders("SELECT ?, '?', ? -- ё") == "SELECT $1, '?', $2 -- ё")
        let many = Array(repeating: "?", count: 120).joined(separator: ",")
        let numbered = PostgresDatabase.numberPlaceholders("VALUES (\(many)) WHERE x = 'a?''b?'")
        #expect(numbered == "VALUES (" + (1...120).map { "$\($0)" }.joined(separator: ",") + ") WHERE x = 'a?''b?'")
    }
}
