//! Write-once claims for params. A param's first value is claimed by a
//! conditional create of `_runql/params/<run>/<key>` (a hard link on local
//! disk, `If-None-Match: *` on S3), which exactly one writer can win, so two
//! processes logging different values for one param cannot both succeed.
//! The claim is taken before anything is written: the loser's whole batch is
//! refused and nothing of it is stored.
//!
//! A claim whose writer stopped before its commit keeps the value reserved:
//! logging that same value again writes it, and any other value is refused,
//! as it would be had the commit landed.

use futures::future::try_join_all;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::error::{Context, Result};
use crate::store::Store;

/// Who holds a param's claim.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Claim {
    /// This call took it now.
    Taken,
    /// An earlier call holds it, with this value.
    Held(String),
}

/// Path segments that spell any run id or key, whatever characters it has:
/// its bytes in hex, cut so no segment exceeds a file name's 255 bytes.
fn segments(text: &str) -> Vec<String> {
    const SEGMENT: usize = 200;
    let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
    if hex.is_empty() {
        return vec![String::new()];
    }
    hex.as_bytes()
        .chunks(SEGMENT)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect()
}

/// `base` extended by `parts`.
fn joined(base: ObjectPath, parts: Vec<String>) -> ObjectPath {
    parts.into_iter().fold(base, |path, part| path.join(part))
}

impl Store {
    /// A run's claims: `_runql/params/<run id, hex>/k/<key, hex>`. The `k`
    /// (not a hex digit) ends the run id, so no run's claims lie under another's.
    fn claims_dir(&self, run_id: &str) -> ObjectPath {
        let params = self.root_path().clone().join("_runql").join("params");
        joined(params, segments(run_id)).join("k")
    }

    /// Claims each `(key, value)` of a run's params, all at once.
    pub(crate) async fn claim_params(
        &self,
        run_id: &str,
        params: &[(&str, &str)],
    ) -> Result<Vec<Claim>> {
        let dir = self.claims_dir(run_id);
        try_join_all(params.iter().map(|(key, value)| {
            let path = joined(dir.clone(), segments(key));
            async move {
                let create = PutOptions {
                    mode: PutMode::Create,
                    ..Default::default()
                };
                let body = PutPayload::from(value.as_bytes().to_vec());
                match self.root_object_store().put_opts(&path, body, create).await {
                    Ok(_) => Ok(Claim::Taken),
                    Err(object_store::Error::AlreadyExists { .. }) => {
                        let held = self
                            .root_object_store()
                            .get(&path)
                            .await
                            .context(|| format!("reading the claim {path}"))?
                            .bytes()
                            .await
                            .context(|| format!("reading the claim {path}"))?;
                        Ok(Claim::Held(String::from_utf8_lossy(&held).into_owned()))
                    }
                    Err(e) => Err(e).context(|| format!("claiming param {path}")),
                }
            }
        }))
        .await
    }

    /// Gives back claims this call took but will not write (its batch failed).
    pub(crate) async fn release_param_claims(&self, run_id: &str, keys: &[&str]) {
        let dir = self.claims_dir(run_id);
        for key in keys {
            // Best effort: a claim left behind only reserves the value it holds.
            let _ = self
                .root_object_store()
                .delete(&joined(dir.clone(), segments(key)))
                .await;
        }
    }

    /// Removes every claim of a run whose data `gc` removed.
    pub(crate) async fn drop_param_claims(&self, run_id: &str) -> Result<()> {
        use futures::TryStreamExt;
        let dir = self.claims_dir(run_id);
        let claims: Vec<_> = self
            .root_object_store()
            .list(Some(&dir))
            .map_ok(|object| object.location)
            .try_collect()
            .await
            .context(|| format!("listing {dir}"))?;
        for claim in claims {
            match self.root_object_store().delete(&claim).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e).context(|| format!("removing {claim}")),
            }
        }
        Ok(())
    }
}
