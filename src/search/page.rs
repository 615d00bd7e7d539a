//! Page tokens for keyset paging. A token holds the sort-key values of the
//! last row served, so the next page starts strictly after that row in the
//! search order: rows written between pages never shift the rows of other
//! pages, as an offset would. It also holds a fingerprint of the search, so a
//! token cannot be replayed against a different one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use datafusion::common::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::error::{Result, RunqlError};
use crate::model::validation::{format_float, parse_float};
use crate::store::schema::timestamp_scalar;

const TOKEN_VERSION: u32 = 1;

/// One sort-key value as a token stores it: floats as text so NaN and ±inf
/// survive JSON, times as microseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum KeyValue {
    #[serde(rename = "f")]
    Float(String),
    #[serde(rename = "s")]
    Text(String),
    #[serde(rename = "t")]
    Micros(i64),
}

#[derive(Debug, Serialize, Deserialize)]
struct Token {
    v: u32,
    /// The search's fingerprint, as hex.
    q: String,
    /// The last served row's sort keys; `None` for NULL.
    after: Vec<Option<KeyValue>>,
}

/// A stable 64-bit FNV-1a hash of the parts that define a search; stable
/// across processes and releases, unlike `std`'s hasher.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Encodes the sort keys of the last row of a page.
pub fn encode(fingerprint: &str, after: &[ScalarValue]) -> Result<String> {
    let after = after
        .iter()
        .map(|value| {
            Ok(match value {
                v if v.is_null() => None,
                ScalarValue::Float64(Some(f)) => Some(KeyValue::Float(format_float(*f))),
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)) => Some(KeyValue::Text(s.clone())),
                ScalarValue::TimestampMicrosecond(Some(t), _) => Some(KeyValue::Micros(*t)),
                ScalarValue::TimestampMillisecond(Some(t), _) => {
                    Some(KeyValue::Micros(t.saturating_mul(1000)))
                }
                other => {
                    return Err(RunqlError::internal(
                        "encoding a page token",
                        format!("unexpected sort key type {}", other.data_type()),
                    ));
                }
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let token = Token {
        v: TOKEN_VERSION,
        q: fingerprint.to_string(),
        after,
    };
    let json =
        serde_json::to_vec(&token).map_err(|e| RunqlError::internal("encoding a page token", e))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes a token issued for the search with `fingerprint` whose order has
/// `keys` sort keys, into literal values to compare the sort keys with.
pub fn decode(token: &str, fingerprint: &str, keys: usize) -> Result<Vec<ScalarValue>> {
    let invalid = || RunqlError::invalid("page_token: not a valid page token");
    let json = URL_SAFE_NO_PAD
        .decode(token.trim().trim_end_matches('='))
        .map_err(|_| invalid())?;
    let token: Token = serde_json::from_slice(&json).map_err(|_| invalid())?;
    if token.v != TOKEN_VERSION {
        return Err(invalid());
    }
    if token.q != fingerprint {
        return Err(RunqlError::invalid(
            "page_token: the token was issued for a different search; keep the filter, order, experiments and view type of the search that returned it",
        ));
    }
    if token.after.len() != keys {
        return Err(invalid());
    }
    token
        .after
        .into_iter()
        .map(|value| {
            Ok(match value {
                None => ScalarValue::Null,
                Some(KeyValue::Float(text)) => {
                    ScalarValue::Float64(Some(parse_float(&text).map_err(|_| invalid())?))
                }
                Some(KeyValue::Text(text)) => ScalarValue::Utf8(Some(text)),
                Some(KeyValue::Micros(t)) => timestamp_scalar(t),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_every_key_type() {
        let keys = vec![
            ScalarValue::Float64(Some(f64::NAN)),
            ScalarValue::Float64(Some(f64::NEG_INFINITY)),
            ScalarValue::Float64(None),
            ScalarValue::Utf8View(Some("ümlaut \"q\"".into())),
            ScalarValue::TimestampMicrosecond(Some(-5), Some("UTC".into())),
        ];
        let search = fingerprint(&["runs", "metrics.a < 1"]);
        let token = encode(&search, &keys).unwrap();
        let back = decode(&token, &search, keys.len()).unwrap();
        assert!(matches!(back[0], ScalarValue::Float64(Some(f)) if f.is_nan()));
        assert_eq!(back[1], ScalarValue::Float64(Some(f64::NEG_INFINITY)));
        assert!(back[2].is_null());
        assert_eq!(back[3], ScalarValue::Utf8(Some("ümlaut \"q\"".into())));
        assert_eq!(
            back[4],
            ScalarValue::TimestampMicrosecond(Some(-5), Some("UTC".into()))
        );
    }

    #[test]
    fn foreign_and_garbage_tokens_are_refused() {
        let token = encode(&fingerprint(&["a"]), &[ScalarValue::Float64(Some(1.0))]).unwrap();
        let other = decode(&token, &fingerprint(&["b"]), 1).unwrap_err();
        assert!(other.to_string().contains("different search"), "{other}");
        for garbage in ["", "!!", "eyJ2IjoxfQ", &token[..token.len() - 3]] {
            let error = decode(garbage, &fingerprint(&["a"]), 1).unwrap_err();
            assert!(
                error.to_string().contains("not a valid page token"),
                "{error}"
            );
        }
        assert!(decode(&token, &fingerprint(&["a"]), 2).is_err());
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }
}
