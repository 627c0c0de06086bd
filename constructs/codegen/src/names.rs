//! Naming rules for generated Rust items.
//!
//! A CloudFormation name is split into words at lower->upper boundaries (`VpcId` -> `Vpc Id`),
//! before the last capital of an acronym that starts a new word (`DBInstance` -> `DB Instance`,
//! `KMSMasterKeyID` -> `KMS Master Key ID`), and at `_`, `-`, `.`, `/`. Digits stay with the word
//! before them (`Ipv6CidrBlock` -> `Ipv6 Cidr Block`, `S3Key` -> `S3 Key`).
//!
//! - Types are the words capitalised and joined: `VPC` -> `Vpc`, `EIP` -> `Eip`,
//!   `DBInstance` -> `DbInstance`, `VPCGatewayAttachment` -> `VpcGatewayAttachment`.
//! - Fields and methods are the words lower-cased and joined with `_`: `EnableDnsHostnames` ->
//!   `enable_dns_hostnames`; Rust keywords get a trailing `_` (`Type` -> `type_`).
//! - Statics are the type name in upper snake case: `DbInstance` -> `DB_INSTANCE_SPEC`.
//! - Schema enum variants ([`variant`]) are the value's words capitalised and joined, with `_`
//!   kept between two digit groups so versions stay readable: `gp2` -> `Gp2`, `db.t4g.micro` ->
//!   `DbT4gMicro`, `python3.12` -> `Python3_12`, `x86_64` -> `X86_64`, `aws:kms` -> `AwsKms`,
//!   `SSE-C` -> `SseC`. A value starting with a digit gets a `V` (`3.0` -> `V3_0`), `*` is
//!   `Wildcard`, and the names the enum itself needs (`Unknown`) or Rust reserves (`Self`) get
//!   `Value` appended.

/// Splits a CloudFormation identifier into words (see the module docs).
pub fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &ch) in chars.iter().enumerate() {
        if !ch.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if ch.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_ascii_lowercase());
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower);
            if boundary {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(ch);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `DBInstance` -> `DbInstance`.
pub fn camel(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &cs.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}

/// `EnableDnsHostnames` -> `enable_dns_hostnames` (no keyword escaping).
pub fn snake_raw(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

/// `DbInstance` -> `DB_INSTANCE`.
pub fn upper_snake(s: &str) -> String {
    snake_raw(s).to_ascii_uppercase()
}

/// The enum variant for a schema enum value (see the module docs). Two values of one enum can
/// give the same name (S3's `GLACIER` and `Glacier`); the caller numbers the later ones.
pub fn variant(value: &str) -> String {
    let mut out = String::new();
    for w in words(value) {
        let mut cs = w.chars();
        let Some(f) = cs.next() else { continue };
        if f.is_ascii_digit() && out.ends_with(|c: char| c.is_ascii_digit()) {
            out.push('_');
        }
        out.push(f.to_ascii_uppercase());
        out.push_str(&cs.as_str().to_ascii_lowercase());
    }
    match out.as_str() {
        "" if value == "*" => "Wildcard".into(),
        "" => "Empty".into(),
        "Self" | "Unknown" => format!("{out}Value"),
        _ if out.starts_with(|c: char| c.is_ascii_digit()) => format!("V{out}"),
        _ => out,
    }
}

const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Method names the generated types already use: a property of that name gets a trailing `_`.
const TAKEN_METHODS: &[&str] = &["new", "validate", "properties", "to_value", "default"];

/// A field / setter name: snake case, keywords and taken method names escaped with `_`.
pub fn field(s: &str) -> String {
    let n = snake_raw(s);
    if KEYWORDS.contains(&n.as_str()) || TAKEN_METHODS.contains(&n.as_str()) {
        format!("{n}_")
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_rule() {
        assert_eq!(camel("VPC"), "Vpc");
        assert_eq!(camel("EIP"), "Eip");
        assert_eq!(camel("DBInstance"), "DbInstance");
        assert_eq!(camel("VPCGatewayAttachment"), "VpcGatewayAttachment");
        assert_eq!(camel("SecurityGroupIngress"), "SecurityGroupIngress");
        assert_eq!(field("KMSMasterKeyID"), "kms_master_key_id");
        assert_eq!(field("Ipv6CidrBlock"), "ipv6_cidr_block");
        assert_eq!(field("EnableDnsHostnames"), "enable_dns_hostnames");
        assert_eq!(field("Type"), "type_");
        assert_eq!(field("S3Key"), "s3_key");
        assert_eq!(upper_snake("DbInstance"), "DB_INSTANCE");
    }

    #[test]
    fn enum_variants_are_valid_upper_camel_idents() {
        for (value, want) in [
            ("gp2", "Gp2"),
            ("db.t4g.micro", "DbT4gMicro"),
            ("ipv4", "Ipv4"),
            ("python3.12", "Python3_12"),
            ("x86_64", "X86_64"),
            ("nodejs20.x", "Nodejs20X"),
            ("aws:kms:dsse", "AwsKmsDsse"),
            ("SSE-C", "SseC"),
            ("INFREQUENT_ACCESS", "InfrequentAccess"),
            ("BucketOwnerPreferred", "BucketOwnerPreferred"),
            ("Intelligent-Tiering", "IntelligentTiering"),
            ("3.0", "V3_0"),
            ("1x", "V1x"),
            ("*", "Wildcard"),
            ("", "Empty"),
            ("self", "SelfValue"),
            ("unknown", "UnknownValue"),
        ] {
            assert_eq!(variant(value), want, "{value}");
        }
        // Only case tells these apart: the generator numbers the second.
        assert_eq!(variant("GLACIER"), variant("Glacier"));
    }
}
