import SwitchboardCore

/// A delivery failure has its own words for a tenant (`CRMFailure.phrase(of:)` finds them).
extension DeliveryError: TenantReadable {}
