//! Checks shared by the unit tests: a typed body against the JSON the server wrote by hand.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// `typed` serialises to exactly the text of `expected` (keys in the same order: the tests,
/// like the appliance, build serde_json with `preserve_order`), and that text parses back to
/// `typed`.
pub fn assert_same_json<T>(typed: &T, expected: serde_json::Value)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let ours = serde_json::to_string(typed).expect("a body always serialises");
    let theirs = serde_json::to_string(&expected).expect("a value always serialises");
    assert_eq!(
        ours, theirs,
        "serialised differently from the server's json!"
    );
    let parsed: T = serde_json::from_str(&theirs).expect("the server's JSON parses");
    assert_eq!(&parsed, typed, "did not parse back to the same value");
}

#[test]
fn object_keys_keep_their_written_order_as_in_the_appliance() {
    let value = serde_json::json!({ "b": 1, "a": 2 });
    assert_eq!(value.to_string(), r#"{"b":1,"a":2}"#);
}
