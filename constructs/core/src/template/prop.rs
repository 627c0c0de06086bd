//! `Prop<T>`: a property value that is either a typed literal or any CloudFormation expression.
//!
//! Generated L1 types use `Prop<String>`, `Prop<i64>`, `Prop<bool>`, `Prop<Vec<Prop<..>>>`,
//! `Prop<BTreeMap<String, Prop<..>>>`, `Prop<NestedType>` and `Prop<SchemaEnumType>` so that a
//! literal is checked against the schema's type at compile time while `Ref`, `Fn::Sub` and friends
//! are accepted everywhere.

use std::collections::BTreeMap;

use super::value::{Intrinsic, Value};

/// A literal of type `T`, or an expression (intrinsic function, parameter, reference).
#[derive(Debug, Clone, PartialEq)]
pub enum Prop<T> {
    /// A literal, checked against the schema.
    Lit(T),
    /// An expression (intrinsic), resolved by CloudFormation.
    Expr(Value),
}

/// Turns a typed value into the template's value tree.
pub trait ToValue {
    /// The value as written in the template.
    fn to_value(&self) -> Value;
}

impl<T: ToValue> ToValue for Prop<T> {
    fn to_value(&self) -> Value {
        match self {
            Prop::Lit(t) => t.to_value(),
            Prop::Expr(v) => v.clone(),
        }
    }
}

impl<T> Prop<T> {
    /// The literal, if this is one (validation only checks literals).
    pub fn lit(&self) -> Option<&T> {
        match self {
            Prop::Lit(t) => Some(t),
            Prop::Expr(_) => None,
        }
    }
}

/// A string enum generated from a schema's `enum` list: one variant per listed value plus an
/// `Unknown(String)` fallback, so a value AWS added after the vendored schema still has a
/// representation (and is written verbatim).
///
/// The generated L1 crate implements it for each enum; the blanket `From<&str>` / `From<String>`
/// impls below let string call sites keep compiling (`Prop<E>::from("gp3")` is `Prop::Lit(E::Gp3)`,
/// an unlisted string is `Prop::Lit(E::Unknown(..))`). They live here because the orphan rule
/// forbids the generated crate to implement `From<&str>` for `Prop<E>`.
pub trait SchemaEnum: for<'a> From<&'a str> + From<String> + AsRef<str> {
    /// The values the schema lists, in schema order.
    const VALUES: &'static [&'static str];

    /// Whether the value is one the schema lists (an `Unknown` holding a listed string counts).
    fn is_known(&self) -> bool {
        Self::VALUES.contains(&self.as_ref())
    }
}

impl<T: SchemaEnum> From<&str> for Prop<T> {
    fn from(s: &str) -> Self {
        Prop::Lit(T::from(s))
    }
}

impl<T: SchemaEnum> From<String> for Prop<T> {
    fn from(s: String) -> Self {
        Prop::Lit(T::from(s))
    }
}

impl<T: SchemaEnum> From<&String> for Prop<T> {
    fn from(s: &String) -> Self {
        Prop::Lit(T::from(s.as_str()))
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
}

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(ToValue::to_value).collect())
    }
}

impl<T: ToValue> ToValue for BTreeMap<String, T> {
    fn to_value(&self) -> Value {
        Value::Map(
            self.iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect(),
        )
    }
}

impl<T> From<Value> for Prop<T> {
    fn from(v: Value) -> Self {
        Prop::Expr(v)
    }
}

impl<T> From<&Value> for Prop<T> {
    fn from(v: &Value) -> Self {
        Prop::Expr(v.clone())
    }
}

impl<T> From<Intrinsic> for Prop<T> {
    fn from(i: Intrinsic) -> Self {
        Prop::Expr(i.into())
    }
}

impl From<String> for Prop<String> {
    fn from(s: String) -> Self {
        Prop::Lit(s)
    }
}

impl From<&String> for Prop<String> {
    fn from(s: &String) -> Self {
        Prop::Lit(s.clone())
    }
}

impl From<&str> for Prop<String> {
    fn from(s: &str) -> Self {
        Prop::Lit(s.to_owned())
    }
}

impl From<i64> for Prop<i64> {
    fn from(i: i64) -> Self {
        Prop::Lit(i)
    }
}

impl From<i32> for Prop<i64> {
    fn from(i: i32) -> Self {
        Prop::Lit(i64::from(i))
    }
}

impl From<u16> for Prop<i64> {
    fn from(i: u16) -> Self {
        Prop::Lit(i64::from(i))
    }
}

impl From<u32> for Prop<i64> {
    fn from(i: u32) -> Self {
        Prop::Lit(i64::from(i))
    }
}

impl From<f64> for Prop<f64> {
    fn from(f: f64) -> Self {
        Prop::Lit(f)
    }
}

impl From<bool> for Prop<bool> {
    fn from(b: bool) -> Self {
        Prop::Lit(b)
    }
}

impl<T, U: Into<T>> From<Vec<U>> for Prop<Vec<T>> {
    fn from(v: Vec<U>) -> Self {
        Prop::Lit(v.into_iter().map(Into::into).collect())
    }
}

impl<T, U: Into<T>> From<BTreeMap<String, U>> for Prop<BTreeMap<String, T>> {
    fn from(m: BTreeMap<String, U>) -> Self {
        Prop::Lit(m.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}
