//! Artifact files under an object-store prefix: what MLflow clients upload
//! through `runql serve`'s artifact proxy. By default the prefix is the
//! store's own `artifacts/` directory, beside the tables.
//!
//! Files are streamed both ways: an upload holds at most one part in memory
//! (a small file goes up in one request, a large one in parts), and a
//! download hands the object store's stream on as it arrives. Paths are
//! checked by [`artifact_path`] before any request is made, so no path can
//! leave the prefix.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::path::{Path as ObjectPath, PathPart};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use url::Url;

use crate::error::{Context, Result, RunqlError};
use crate::model::validation::artifact_path;
use crate::store::location::Location;
use crate::store::{Store, object_store_at};

/// Uploads up to this size go up in one request; larger ones in parts of it.
const PART_BYTES: usize = 8 * 1024 * 1024;

/// An entry of a listing, as MLflow's `FileInfo`: a path relative to the
/// listed directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactFile {
    pub path: String,
    pub is_dir: bool,
    pub file_size: Option<u64>,
}

/// A prefix of an object store that holds artifact files.
#[derive(Clone)]
pub struct ArtifactRoot {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    url: Url,
}

impl ArtifactRoot {
    /// The root at a location (a path, `file://`, `s3://`, `gs://`, `az://`,
    /// `memory://`), reached with `storage_options` over the environment.
    pub fn open(location: &str, storage_options: &HashMap<String, String>) -> Result<Self> {
        let location = Location::parse(location, storage_options)?;
        let store = object_store_at(&location)?;
        Self::at(store, location.root)
    }

    fn at(store: Arc<dyn ObjectStore>, url: Url) -> Result<Self> {
        let prefix = ObjectPath::from_url_path(url.path())
            .context(|| format!("reading artifact location {url}"))?;
        Ok(ArtifactRoot { store, prefix, url })
    }

    /// The root's URL, ending in '/'.
    pub fn url(&self) -> String {
        let mut shown = self.url.clone();
        let _ = shown.set_password(None);
        shown.to_string()
    }

    /// The object a relative artifact path names; the path is checked first.
    fn object(&self, relative: &str) -> Result<ObjectPath> {
        let segments = artifact_path(relative)?;
        Ok(segments.iter().fold(self.prefix.clone(), |path, segment| {
            path.join(PathPart::from(segment.as_str()))
        }))
    }

    /// Writes a file from a stream of chunks, replacing any file at the path.
    /// Returns the bytes written. Nothing is visible until the last chunk is
    /// written; a failed stream leaves no file.
    pub async fn upload<S, E>(&self, relative: &str, body: S) -> Result<u64>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let path = self.object(relative)?;
        let what = || format!("uploading artifact {relative}");
        let mut body = std::pin::pin!(body);
        let mut first = Vec::new();
        let mut total = 0u64;
        // Small files (most of them) go up in one request.
        while first.len() < PART_BYTES {
            match body.next().await {
                Some(chunk) => {
                    let chunk =
                        chunk.map_err(|e| RunqlError::invalid(format!("{}: {e}", what())))?;
                    total += chunk.len() as u64;
                    first.extend_from_slice(&chunk);
                }
                None => {
                    self.store
                        .put(&path, PutPayload::from(first))
                        .await
                        .context(what)?;
                    return Ok(total);
                }
            }
        }
        let upload = self.store.put_multipart(&path).await.context(what)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        writer.write(&first);
        drop(first);
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(RunqlError::invalid(format!("{}: {e}", what())));
                }
            };
            total += chunk.len() as u64;
            // At most two parts wait to be sent, so memory stays bounded.
            if let Err(e) = writer.wait_for_capacity(2).await {
                let _ = writer.abort().await;
                return Err(RunqlError::internal(what(), e));
            }
            writer.write(&chunk);
        }
        // finish aborts the upload itself when completing it fails.
        writer.finish().await.context(what)?;
        Ok(total)
    }

    /// A file's size and a stream of its bytes; RESOURCE_DOES_NOT_EXIST if absent.
    pub async fn download(
        &self,
        relative: &str,
    ) -> Result<(u64, BoxStream<'static, Result<Bytes>>)> {
        let path = self.object(relative)?;
        let found = match self.store.get(&path).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(RunqlError::not_found("artifact", relative));
            }
            Err(e) => {
                return Err(RunqlError::internal(
                    format!("reading artifact {relative}"),
                    e,
                ));
            }
        };
        let size = found.meta.size;
        let shown = relative.to_string();
        let stream = found
            .into_stream()
            .map_err(move |e| RunqlError::internal(format!("reading artifact {shown}"), e))
            .boxed();
        Ok((size, stream))
    }

    /// The files and directories directly under a directory ("" for the root),
    /// directories first, each by name.
    pub async fn list(&self, relative: &str) -> Result<Vec<ArtifactFile>> {
        let dir = if relative.trim_matches('/').is_empty() {
            self.prefix.clone()
        } else {
            self.object(relative)?
        };
        let listing = self
            .store
            .list_with_delimiter(Some(&dir))
            .await
            .context(|| format!("listing artifacts under {}", shown_dir(relative)))?;
        let name = |path: &ObjectPath| path.filename().unwrap_or_default().to_string();
        let mut files: Vec<ArtifactFile> = listing
            .common_prefixes
            .iter()
            .map(|p| ArtifactFile {
                path: name(p),
                is_dir: true,
                file_size: None,
            })
            .chain(listing.objects.iter().map(|o| ArtifactFile {
                path: name(&o.location),
                is_dir: false,
                file_size: Some(o.size),
            }))
            .collect();
        files.sort_by(|a, b| (!a.is_dir, &a.path).cmp(&(!b.is_dir, &b.path)));
        Ok(files)
    }

    /// Deletes a file, or a directory and everything under it.
    pub async fn delete(&self, relative: &str) -> Result<()> {
        let path = self.object(relative)?;
        let what = || format!("deleting artifact {relative}");
        let under: Vec<ObjectPath> = self
            .store
            .list(Some(&path))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .context(what)?;
        // A directory is the objects under it; a path with none is a file (or nothing).
        let objects = if under.is_empty() { vec![path] } else { under };
        for object in objects {
            match self.store.delete(&object).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(RunqlError::internal(what(), e)),
            }
        }
        Ok(())
    }
}

fn shown_dir(relative: &str) -> String {
    if relative.is_empty() {
        "the artifact root".to_string()
    } else {
        format!("'{relative}'")
    }
}

impl Store {
    /// The store's own artifact directory, `<root>/artifacts/`.
    pub fn artifacts(&self) -> ArtifactRoot {
        ArtifactRoot {
            store: self.inner.root_store.clone(),
            prefix: self.inner.root_path.clone().join("artifacts"),
            url: self.inner.location.join("artifacts"),
        }
    }
}
