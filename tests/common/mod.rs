//! A `JsonView` over `serde_json::Value`, standing in for the browser's
//! `JSON.parse` result in native tests.
#![allow(dead_code)]

use serde_json::Value;
use smart_polling::core::record::JsonView;

/// A borrowed serde_json value seen through `JsonView`.
#[derive(Clone, Copy, Debug)]
pub struct J<'a>(pub &'a Value);

/// Wraps a value: `read_file(&j(&v), media)`.
pub fn j(v: &Value) -> J<'_> {
    J(v)
}

impl JsonView for J<'_> {
    fn get(&self, key: &str) -> Option<Self> {
        self.0.as_object()?.get(key).map(J)
    }

    fn at(&self, i: usize) -> Option<Self> {
        self.0.as_array()?.get(i).map(J)
    }

    fn array_len(&self) -> Option<usize> {
        self.0.as_array().map(Vec::len)
    }

    fn string(&self) -> Option<String> {
        self.0.as_str().map(str::to_owned)
    }

    fn number(&self) -> Option<f64> {
        self.0.as_f64()
    }

    fn is_null(&self) -> bool {
        self.0.is_null()
    }

    fn is_object(&self) -> bool {
        self.0.is_object()
    }
}
