//! Error codes shared by every engine (spec §2 "Results and errors") and their texts.

use core::fmt;

/// Why a load or a run stopped. The numbers are the old engine's, which firmware compares against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    Ok = 0,
    IllegalInstruction = -1,
    IllegalMem = -2,
    IllegalJump = -3,
    IllegalCall = -4,
    IllegalLen = -5,
    IllegalRegister = -6,
    NoReturn = -7,
    OutOfBranches = -8,
    IllegalDiv = -9,
    NoMemory = -100,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::Ok,
        ErrorCode::IllegalInstruction,
        ErrorCode::IllegalMem,
        ErrorCode::IllegalJump,
        ErrorCode::IllegalCall,
        ErrorCode::IllegalLen,
        ErrorCode::IllegalRegister,
        ErrorCode::NoReturn,
        ErrorCode::OutOfBranches,
        ErrorCode::IllegalDiv,
        ErrorCode::NoMemory,
    ];

    pub const fn code(self) -> i32 {
        self as i32
    }

    pub fn from_code(code: i32) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    pub const fn text(self) -> &'static str {
        match self {
            ErrorCode::Ok => "OK",
            ErrorCode::IllegalInstruction => "ILLEGAL_INSTRUCTION",
            ErrorCode::IllegalMem => "ILLEGAL_MEM",
            ErrorCode::IllegalJump => "ILLEGAL_JUMP",
            ErrorCode::IllegalCall => "ILLEGAL_CALL",
            ErrorCode::IllegalLen => "ILLEGAL_LEN",
            ErrorCode::IllegalRegister => "ILLEGAL_REGISTER",
            ErrorCode::NoReturn => "NO_RETURN",
            ErrorCode::OutOfBranches => "OUT_OF_BRANCHES",
            ErrorCode::IllegalDiv => "ILLEGAL_DIV",
            ErrorCode::NoMemory => "NO_MEMORY",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// The text of any error number: the spec's names, `ERROR n` for the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorText(pub i32);

impl fmt::Display for ErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ErrorCode::from_code(self.0) {
            Some(e) => f.write_str(e.text()),
            None => write!(f, "ERROR {}", self.0),
        }
    }
}

/// `getErrorString` of the Sming API.
pub const fn error_string(code: i32) -> ErrorText {
    ErrorText(code)
}

/// A run that stopped early: the error and the slot index of the instruction that caused it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    pub code: ErrorCode,
    pub pc: usize,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at insn {}", self.code, self.pc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn texts_follow_the_spec() {
        assert_eq!(error_string(0).to_string(), "OK");
        assert_eq!(error_string(-8).to_string(), "OUT_OF_BRANCHES");
        assert_eq!(error_string(-100).to_string(), "NO_MEMORY");
        assert_eq!(error_string(-42).to_string(), "ERROR -42");
        assert_eq!(error_string(7).to_string(), "ERROR 7");
    }
}
