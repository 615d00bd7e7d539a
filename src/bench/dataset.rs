//! The standard workload's data: the CSVs of `gen_dataset.py` (the workload's
//! generator, embedded here and written to the work dir unless another copy is
//! given), made once per run count and reused, so every system reads
//! byte-identical files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use crate::error::{Context, Result, RunqlError};

/// The standard sizes; every run has 20 steps x 5 metrics = 100 points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 1k runs, 100k metric points.
    S,
    /// 100k runs, 10M metric points: the size the targets are set for.
    M,
    /// 1M runs, 100M metric points.
    L,
}

impl Size {
    pub fn runs(self) -> usize {
        match self {
            Size::S => 1_000,
            Size::M => 100_000,
            Size::L => 1_000_000,
        }
    }
}

impl FromStr for Size {
    type Err = RunqlError;

    fn from_str(text: &str) -> Result<Self> {
        match text.to_ascii_uppercase().as_str() {
            "S" => Ok(Size::S),
            "M" => Ok(Size::M),
            "L" => Ok(Size::L),
            _ => Err(RunqlError::invalid(format!(
                "bench size must be S, M or L, got '{text}'"
            ))),
        }
    }
}

/// The standard workload's generator, shipped with runql.
const GENERATOR: &str = include_str!("gen_dataset.py");

/// The generator's CSV files for `runs` runs under `work_dir`, generating them
/// first if an earlier bench has not, with `generator` or else the embedded
/// copy. Generation writes to a side directory and renames it into place, so an
/// interrupted run never leaves half a dataset to reuse.
pub(crate) fn ensure(generator: Option<&Path>, work_dir: &Path, runs: usize) -> Result<PathBuf> {
    let data = work_dir.join(format!("data-{runs}"));
    if data.join("metrics.csv").exists() {
        return Ok(data);
    }
    let generator = match generator {
        Some(path) => path.to_path_buf(),
        None => {
            let path = work_dir.join("gen_dataset.py");
            std::fs::write(&path, GENERATOR).context(|| format!("writing {}", path.display()))?;
            path
        }
    };
    let partial = work_dir.join(format!("data-{runs}.partial"));
    // A leftover from an interrupted generation is incomplete by construction.
    let _ = std::fs::remove_dir_all(&partial);
    eprintln!(
        "generating {runs} runs with {} into {} ...",
        generator.display(),
        data.display()
    );
    let status = Command::new("python3")
        .arg(&generator)
        .arg(&partial)
        .arg("--runs")
        .arg(runs.to_string())
        .status()
        .context(|| format!("running python3 {}", generator.display()))?;
    if !status.success() {
        return Err(RunqlError::internal(
            "generating the dataset",
            format!("python3 {} exited with {status}", generator.display()),
        ));
    }
    std::fs::rename(&partial, &data)
        .context(|| format!("moving {} to {}", partial.display(), data.display()))?;
    Ok(data)
}
