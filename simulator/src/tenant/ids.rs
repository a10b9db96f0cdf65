//! Deterministic identifiers: UUID v5 over a fixed namespace, so the tenant is identical every run.

use uuid::Uuid;

const NAMESPACE: Uuid = Uuid::from_u128(0x5e1a7c9d_0a2b_4c3d_8e4f_a1b2c3d4e5f6);

pub fn derive(kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}:{key}").as_bytes())
}

/// A stable 64-bit hash (FNV-1a) used to derive realistic but repeatable metrics from names.
pub fn hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A value in `lo..=hi` derived from `key` and a `salt` naming the metric.
pub fn pick(key: &str, salt: &str, lo: u64, hi: u64) -> u64 {
    let span = hi.saturating_sub(lo) + 1;
    lo + hash(&format!("{salt}/{key}")) % span
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::seed;

    #[test]
    fn seed_constants_match_the_derivation() {
        let cases = [
            (seed::CONTOSO_ID, derive("company", "contoso")),
            (seed::FABRIKAM_ID, derive("company", "fabrikam")),
            (seed::NORTHWIND_ID, derive("company", "northwind")),
            (
                seed::CONTOSO_SYDNEY_SITE_ID,
                derive("site", "contoso-sydney"),
            ),
            (
                seed::CONTOSO_MELBOURNE_SITE_ID,
                derive("site", "contoso-melbourne"),
            ),
            (
                seed::FABRIKAM_BRISBANE_SITE_ID,
                derive("site", "fabrikam-brisbane"),
            ),
            (
                seed::FABRIKAM_WAREHOUSE_SITE_ID,
                derive("site", "fabrikam-warehouse"),
            ),
            (
                seed::NORTHWIND_PERTH_SITE_ID,
                derive("site", "northwind-perth"),
            ),
            (
                seed::NORTHWIND_AUCKLAND_SITE_ID,
                derive("site", "northwind-auckland"),
            ),
            (seed::DC01_ID, derive("endpoint", "DC01")),
            (
                seed::MARIA_LAPTOP_ID,
                derive("endpoint", "CONTOSO-LT-MARIA"),
            ),
            (seed::OFFLINE_DESKTOP_ID, derive("endpoint", "FAB-WS-07")),
            (
                seed::DISK_CLEANUP_SCRIPT_ID,
                derive("template", "disk-cleanup"),
            ),
        ];
        for (literal, derived) in cases {
            assert_eq!(literal, derived.to_string());
        }
    }

    #[test]
    fn pick_stays_in_range() {
        for k in ["a", "b", "DC01"] {
            let v = pick(k, "cpu", 5, 9);
            assert!((5..=9).contains(&v));
        }
    }
}
