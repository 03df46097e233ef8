//! Opaque ids: UUIDv7 strings made from the Clock and Rng ports, stored as text, accepted from
//! outside only in UUID shape. [`uuid_id!`] writes the newtype so each id stays its own type.

/// Declares `pub struct $name(String)` with `from_stored`, `parse` (UUID shape only, so a URL
/// or form value never reaches a query as anything else), `as_str`, `Debug` and `Display`.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// An id read back from storage (already ours).
            pub fn from_stored(id: String) -> Self {
                Self(id)
            }

            /// Accepts an id that came from outside (a URL, a form) only if it has our shape.
            pub fn parse(raw: &str) -> Option<Self> {
                uuid::Uuid::try_parse(raw).ok().map(|u| Self(u.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub(crate) use uuid_id;

/// A new UUIDv7 string: the time from the Clock port, the rest from the Rng port.
pub(crate) fn new_uuid(now: crate::clock::Timestamp, rng: &dyn crate::secret::Rng) -> String {
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    let millis = u64::try_from(now.unix()).unwrap_or(0).saturating_mul(1000);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    uuid_id!(
        /// An id for this test.
        ExampleId
    );

    #[test]
    fn only_uuids_are_accepted_from_outside() {
        let id = ExampleId::parse("0190f7a0-1b2c-7d3e-8f40-123456789abc").unwrap();
        assert_eq!(id.as_str(), "0190f7a0-1b2c-7d3e-8f40-123456789abc");
        assert_eq!(format!("{id:?}"), "ExampleId(0190f7a0-1b2c-7d3e-8f40-123456789abc)");
        assert_eq!(ExampleId::from_stored("stored".into()).to_string(), "stored");
        for bad in ["", "1", "../etc", "0190f7a0-1b2c-7d3e-8f40-123456789abc' OR 1=1"] {
            assert!(ExampleId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
