//! `/logged-models`: MLflow 3's logged models. `mlflow.<flavor>.log_model`
//! creates one, uploads its files under its artifact URI and finalizes it;
//! `load_model("models:/<id>")` reads it back.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::api::CreateLoggedModel;
use crate::error::RunqlError;
use crate::model::validation::{MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH};
use crate::model::{LoggedModel, Param, Tag};
use crate::search::Search;
use crate::serve::error::{ApiError, ApiResult};
use crate::serve::wire::{self, Input, truncated};
use crate::serve::{App, done};

type Answer = ApiResult<Json<Value>>;

/// Logged-model searches return this many models unless asked otherwise, as MLflow's do.
const DEFAULT_MAX_MODELS: i64 = 50;

fn pairs(input: &Input, field: &str, limit: usize) -> Result<Vec<Tag>, ApiError> {
    Ok(input
        .tags(field)?
        .into_iter()
        .map(|t| Tag::new(t.key, truncated(t.value, limit)))
        .collect())
}

fn model_json(model: &LoggedModel) -> Value {
    let mut info = serde_json::Map::new();
    info.insert("model_id".into(), json!(model.model_id));
    info.insert("experiment_id".into(), json!(model.experiment_id));
    info.insert("name".into(), json!(model.name));
    info.insert("creation_timestamp_ms".into(), json!(model.creation_time));
    info.insert(
        "last_updated_timestamp_ms".into(),
        json!(model.last_update_time),
    );
    info.insert("artifact_uri".into(), json!(model.artifact_uri));
    info.insert("status".into(), json!(model.status.as_str()));
    info.insert("model_type".into(), json!(model.model_type));
    info.insert("source_run_id".into(), json!(model.source_run_id));
    if let Some(message) = &model.status_message {
        info.insert("status_message".into(), json!(message));
    }
    if !model.tags.is_empty() {
        info.insert("tags".into(), wire::tags(&model.tags));
    }
    let mut data = serde_json::Map::new();
    if !model.params.is_empty() {
        data.insert("params".into(), wire::tags(&model.params));
    }
    if !model.metrics.is_empty() {
        let metrics = model
            .metrics
            .iter()
            .map(|(run_id, metric)| {
                let mut value = wire::metric(metric);
                value["run_id"] = json!(run_id);
                value["model_id"] = json!(model.model_id);
                if let Some(name) = &metric.dataset_name {
                    value["dataset_name"] = json!(name);
                }
                if let Some(digest) = &metric.dataset_digest {
                    value["dataset_digest"] = json!(digest);
                }
                value
            })
            .collect();
        data.insert("metrics".into(), Value::Array(metrics));
    }
    json!({ "info": Value::Object(info), "data": Value::Object(data) })
}

pub async fn create(State(app): State<App>, input: Input) -> Answer {
    let params: Vec<Param> = pairs(&input, "params", MAX_PARAM_VALUE_LENGTH)?;
    let model = app
        .store
        .create_logged_model(CreateLoggedModel {
            experiment_id: input.required("experiment_id")?,
            name: input.text("name")?,
            model_type: input.text("model_type")?,
            source_run_id: input.text("source_run_id")?,
            params,
            tags: pairs(&input, "tags", MAX_TAG_VALUE_LENGTH)?,
        })
        .await?;
    Ok(Json(json!({ "model": model_json(&model) })))
}

pub async fn get(State(app): State<App>, Path(model_id): Path<String>, input: Input) -> Answer {
    let allow_deleted = input
        .text("allow_deleted")?
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let model = app.store.get_logged_model(&model_id, allow_deleted).await?;
    Ok(Json(json!({ "model": model_json(&model) })))
}

/// MLflow takes the model from the body's `model_id`; the path names it too.
pub async fn finalize(State(app): State<App>, input: Input) -> Answer {
    let model_id = input.required("model_id")?;
    let status = wire::model_status(&input, "status")?
        .ok_or_else(|| RunqlError::invalid("Missing value for required parameter 'status'"))?;
    let model = app.store.finalize_logged_model(&model_id, status).await?;
    Ok(Json(json!({ "model": model_json(&model) })))
}

pub async fn delete(State(app): State<App>, Path(model_id): Path<String>) -> Answer {
    app.store.delete_logged_model(&model_id).await?;
    Ok(done())
}

pub async fn set_tags(
    State(app): State<App>,
    Path(model_id): Path<String>,
    input: Input,
) -> Answer {
    let tags = pairs(&input, "tags", MAX_TAG_VALUE_LENGTH)?;
    app.store.set_logged_model_tags(&model_id, &tags).await?;
    Ok(done())
}

pub async fn delete_tag(
    State(app): State<App>,
    Path((model_id, key)): Path<(String, String)>,
) -> Answer {
    app.store.delete_logged_model_tag(&model_id, &key).await?;
    Ok(done())
}

pub async fn log_params(
    State(app): State<App>,
    Path(model_id): Path<String>,
    input: Input,
) -> Answer {
    let params = pairs(&input, "params", MAX_PARAM_VALUE_LENGTH)?;
    app.store
        .log_logged_model_params(&model_id, &params)
        .await?;
    Ok(done())
}

pub async fn search(State(app): State<App>, input: Input) -> Answer {
    if !input.objects("datasets")?.is_empty() {
        return Err(RunqlError::invalid(
            "searching logged models by datasets is not supported; filter on params., tags. and attributes",
        )
        .into());
    }
    let order_by = input
        .objects("order_by")?
        .iter()
        .map(|item| {
            let field = item.required("field_name")?;
            let ascending = item
                .text("ascending")?
                .is_none_or(|a| a.eq_ignore_ascii_case("true"));
            Ok(format!(
                "{field} {}",
                if ascending { "ASC" } else { "DESC" }
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let search = Search {
        experiment_ids: input.texts("experiment_ids")?,
        filter: input.text("filter")?.unwrap_or_default(),
        order_by,
        max_results: crate::search::max_results(Some(
            input.int("max_results")?.unwrap_or(DEFAULT_MAX_MODELS),
        ))?,
        page_token: input.text("page_token")?,
        ..Search::logged_models()
    };
    let (models, next_page_token) = app.store.search_logged_models(&search).await?;
    Ok(Json(wire::page(
        "models",
        models.iter().map(model_json).collect(),
        next_page_token,
    )))
}
