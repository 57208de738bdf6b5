//! Which helpers a container may call: a profile's built-ins plus the application
//! helpers declared with `--app-helper ID[:ARITY][=BEHAVIOUR]`, and the made-up
//! behaviours that let a container calling them be tried on the host.

use std::fmt;
use std::str::FromStr;

use fc_runtime::env::Environment;
use fc_runtime::format::Container;
use fc_runtime::helpers::{Profile, FIRST_APP_HELPER};
use fc_runtime::stores::StoreContext;
use fc_runtime::verifier::VerifiedProgram;
use fc_runtime::vm::{LoadError, DEFAULT_STACK_SIZE};
use fc_runtime::VirtualMachine;

/// What a declared application helper does when `fc-aot run` calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Returns 0.
    Zero,
    /// Returns r1.
    Echo,
    /// Returns r1 + ... + r<arity>, wrapping.
    Sum,
    /// Prints `app 0x<id>: r1, ..., r<arity>` among the printf lines and returns 0.
    Log,
}

impl Behaviour {
    const ALL: [(&'static str, Behaviour); 4] =
        [("zero", Behaviour::Zero), ("echo", Behaviour::Echo), ("sum", Behaviour::Sum), ("log", Behaviour::Log)];

    /// The fewest arguments the behaviour reads: echo reads r1, so the verifier must
    /// prove r1 defined at every call (an undefined r1 could differ between engines).
    const fn min_arity(self) -> u8 {
        match self {
            Behaviour::Echo => 1,
            Behaviour::Zero | Behaviour::Sum | Behaviour::Log => 0,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Behaviour::Zero => "zero",
            Behaviour::Echo => "echo",
            Behaviour::Sum => "sum",
            Behaviour::Log => "log",
        }
    }
}

/// One `--app-helper ID[:ARITY][=BEHAVIOUR]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppHelper {
    pub id: u32,
    /// How many of r1..r5 it reads (the verifier checks they are defined at each call).
    pub arity: u8,
    pub behaviour: Option<Behaviour>,
}

impl FromStr for AppHelper {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (head, behaviour) = match s.split_once('=') {
            Some((head, b)) => {
                let found = Behaviour::ALL.iter().find(|(name, _)| *name == b).map(|&(_, b)| b);
                let names = Behaviour::ALL.map(|(name, _)| name).join(", ");
                (head, Some(found.ok_or_else(|| format!("`{b}` is not a behaviour (have: {names})"))?))
            }
            None => (s, None),
        };
        let (id, arity) = match head.split_once(':') {
            Some((id, arity)) => match arity.parse::<u8>() {
                Ok(a) if a <= 5 => (id, a),
                _ => return Err(format!("arity `{arity}` is not 0 to 5")),
            },
            None => (head, 0),
        };
        let id = match id.strip_prefix("0x").or_else(|| id.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => id.parse(),
        }
        .map_err(|_| format!("`{id}` is not a helper id (decimal or 0x hex)"))?;
        if id < FIRST_APP_HELPER {
            return Err(format!("0x{id:x} is below 0x{FIRST_APP_HELPER:x}: application helpers start there"));
        }
        let arity = behaviour.map_or(arity, |b| arity.max(b.min_arity()));
        Ok(AppHelper { id, arity, behaviour })
    }
}

impl fmt::Display for AppHelper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}:{}", self.id, self.arity)?;
        match self.behaviour {
            Some(b) => write!(f, "={}", b.name()),
            None => Ok(()),
        }
    }
}

/// The helpers a VM offers a container: one profile's built-ins and the declared
/// application helpers (a later declaration of the same id replaces an earlier one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelperSet {
    pub profile: Profile,
    pub apps: Vec<AppHelper>,
}

impl HelperSet {
    pub fn new(profile: Profile, apps: &[AppHelper]) -> Self {
        HelperSet { profile, apps: apps.to_vec() }
    }

    /// The built-ins of `profile` alone.
    pub fn profile(profile: Profile) -> Self {
        HelperSet { profile, apps: Vec::new() }
    }

    /// Registers every declared helper with `env`: with its behaviour, or (for checking
    /// only) with one that returns 0. `log` lines go to `log`.
    pub fn install<'a>(&self, env: &mut Environment<'a>, log: impl Fn(String) + Clone + 'a) {
        for app in &self.apps {
            let AppHelper { id, arity, behaviour } = *app;
            let log = log.clone();
            let args = move |r: [u64; 5]| r[..usize::from(arity)].to_vec();
            env.register(id, arity, move |r, _| match behaviour {
                None | Some(Behaviour::Zero) => 0,
                Some(Behaviour::Echo) => r[0],
                Some(Behaviour::Sum) => args(r).iter().fold(0u64, |sum, v| sum.wrapping_add(*v)),
                Some(Behaviour::Log) => {
                    let values = args(r).iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
                    log(format!("app 0x{id:x}: {values}"));
                    0
                }
            });
        }
    }

    /// The first declared helper without a behaviour: a run cannot call it.
    pub fn without_behaviour(&self) -> Option<&AppHelper> {
        self.apps.iter().find(|a| a.behaviour.is_none())
    }

    /// Verifies `c` exactly as a VM offering these helpers loads it with the default
    /// stack (the same checks and the same errors as `fc-aot verify`), for translation.
    pub fn verify<'c>(&self, c: &Container<'c>) -> Result<VerifiedProgram<'c>, LoadError> {
        self.verify_with_stack(c, DEFAULT_STACK_SIZE)
    }

    /// [`verify`](Self::verify) with `stack_size` bytes per frame, as `fc-aot run --stack`
    /// loads it.
    pub fn verify_with_stack<'c>(&self, c: &Container<'c>, stack_size: usize) -> Result<VerifiedProgram<'c>, LoadError> {
        let stores = StoreContext::new();
        let mut vm = VirtualMachine::new(&stores);
        vm.environment().set_profile(self.profile);
        self.install(vm.environment(), |_| {});
        vm.verify_container(c, stack_size).map(|(program, _)| program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_parse_with_their_defaults_and_refuse_what_is_wrong() {
        let parse = |s: &str| s.parse::<AppHelper>();
        assert_eq!(parse("0x100"), Ok(AppHelper { id: 0x100, arity: 0, behaviour: None }));
        assert_eq!(parse("257:3=sum"), Ok(AppHelper { id: 257, arity: 3, behaviour: Some(Behaviour::Sum) }));
        assert_eq!(parse("0x100=echo"), Ok(AppHelper { id: 0x100, arity: 1, behaviour: Some(Behaviour::Echo) }), "echo reads r1");
        assert_eq!(parse("0x100:2=log").map(|a| a.to_string()), Ok("0x100:2=log".to_string()));
        assert!(parse("0x20").unwrap_err().contains("below 0x100"));
        assert!(parse("0x100:6").unwrap_err().contains("not 0 to 5"));
        assert!(parse("0x100=add").unwrap_err().contains("zero, echo, sum, log"));
        assert!(parse("x").unwrap_err().contains("not a helper id"));
    }
}
