//! Choosing the compute device at run time: `--device flex|ndarray|wgpu|vulkan|cuda[:N]`.
//!
//! Which backends exist is decided at build time by cargo features (`flex`, `ndarray`, `wgpu`,
//! `vulkan`, `cuda`); this module picks among those compiled in and says which feature to
//! enable when asked for one that is not.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

/// Environment variable holding the default device when `--device` is not given.
pub const DEVICE_ENV: &str = "BURN_DEVICE";

/// A backend and device, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSpec {
    /// burn's pure-Rust CPU backend (default).
    Flex,
    /// The ndarray CPU backend (slower; for comparison).
    NdArray,
    /// wgpu, with the graphics API wgpu picks (WGSL shaders).
    Wgpu,
    /// wgpu pinned to Vulkan (SPIR-V shaders).
    Vulkan,
    /// CUDA device `index` (`None`: the default device).
    Cuda(Option<usize>),
}

/// A device that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// Not a device name.
    #[error("unknown device `{0}`; expected flex, ndarray, wgpu, vulkan, cuda or cuda:N")]
    Unknown(String),
    /// A backend this build does not contain.
    #[error(
        "the `{backend}` backend is not compiled into this build; rebuild with `--features {backend}` (compiled in: {compiled})"
    )]
    NotCompiled {
        /// The backend's name (also its cargo feature).
        backend: &'static str,
        /// The backends this build has.
        compiled: String,
    },
}

impl DeviceSpec {
    /// The backend's name, which is also the cargo feature that compiles it in.
    pub fn backend(self) -> &'static str {
        match self {
            DeviceSpec::Flex => "flex",
            DeviceSpec::NdArray => "ndarray",
            DeviceSpec::Wgpu => "wgpu",
            DeviceSpec::Vulkan => "vulkan",
            DeviceSpec::Cuda(_) => "cuda",
        }
    }

    /// The backends compiled into this build.
    pub fn compiled() -> Vec<&'static str> {
        [
            cfg!(feature = "flex").then_some("flex"),
            cfg!(feature = "ndarray").then_some("ndarray"),
            cfg!(feature = "wgpu").then_some("wgpu"),
            cfg!(feature = "vulkan").then_some("vulkan"),
            cfg!(feature = "cuda").then_some("cuda"),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// `$BURN_DEVICE` if set, else flex if compiled in, else the first backend compiled in.
    pub fn from_env_or_default() -> Result<Self, DeviceError> {
        match std::env::var(DEVICE_ENV) {
            Ok(spec) if !spec.is_empty() => spec.parse(),
            _ => Self::compiled()
                .first()
                .map(|name| name.parse())
                .unwrap_or(Ok(DeviceSpec::Flex)),
        }
    }

    /// The burn device, or an error naming the feature to enable.
    pub fn device(self) -> Result<Device, DeviceError> {
        let not_compiled = || DeviceError::NotCompiled {
            backend: self.backend(),
            compiled: Self::compiled().join(", "),
        };
        match self {
            #[cfg(feature = "flex")]
            DeviceSpec::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            // kept as an option for comparison, as burn still ships it
            DeviceSpec::NdArray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            DeviceSpec::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(feature = "vulkan")]
            DeviceSpec::Vulkan => Ok(Device::vulkan(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(feature = "cuda")]
            DeviceSpec::Cuda(index) => Ok(match index {
                Some(i) => Device::cuda(i),
                None => Device::cuda(burn::tensor::DeviceIndex::Default),
            }),
            #[allow(unreachable_patterns)]
            _ => Err(not_compiled()),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "flex" => DeviceSpec::Flex,
            "ndarray" => DeviceSpec::NdArray,
            "wgpu" => DeviceSpec::Wgpu,
            "vulkan" => DeviceSpec::Vulkan,
            "cuda" => DeviceSpec::Cuda(None),
            _ => match lower.strip_prefix("cuda:").map(str::parse) {
                Some(Ok(index)) => DeviceSpec::Cuda(Some(index)),
                _ => return Err(DeviceError::Unknown(s.to_string())),
            },
        })
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cuda(Some(i)) => write!(f, "cuda:{i}"),
            other => f.write_str(other.backend()),
        }
    }
}
