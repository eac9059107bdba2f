extension CRMKind {
    /// amoCRM (and Kommo, its international edition).
    public static let amocrm = CRMKind("amocrm")
}
