//! Names of the symbols translated code exports (part of the native ABI, `targets/include/fc_abi.h`).

/// `name` with every non-identifier character made `_` (exported symbol names).
pub fn symbol_part(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}
