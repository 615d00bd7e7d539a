//! `/runs/*`: create, get, update, delete, restore, search, and logging
//! (metrics, params, tags, batches, inputs, outputs, models).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::api::CreateRun;
use crate::model::validation::{MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH};
use crate::model::{Dataset, DatasetInput, Metric, ModelLink, Param, Tag};
use crate::search::Search;
use crate::serve::error::{ApiError, ApiResult};
use crate::serve::wire::{self, Input, truncated};
use crate::serve::{App, done};

type Answer = ApiResult<Json<Value>>;

/// Run tags as MLflow's server takes them: values over the limit cut to it.
fn run_tags(input: &Input, field: &str) -> Result<Vec<Tag>, ApiError> {
    Ok(input
        .tags(field)?
        .into_iter()
        .map(|t| Tag::new(t.key, truncated(t.value, MAX_TAG_VALUE_LENGTH)))
        .collect())
}

fn params(input: &Input, field: &str) -> Result<Vec<Param>, ApiError> {
    Ok(input
        .tags(field)?
        .into_iter()
        .map(|p| Param::new(p.key, truncated(p.value, MAX_PARAM_VALUE_LENGTH)))
        .collect())
}

fn metric(input: &Input) -> Result<Metric, ApiError> {
    Ok(Metric {
        dataset_name: input.text("dataset_name")?.filter(|s| !s.is_empty()),
        dataset_digest: input.text("dataset_digest")?.filter(|s| !s.is_empty()),
        model_id: input.text("model_id")?.filter(|s| !s.is_empty()),
        ..Metric::new(
            input.required("key")?,
            input.required_float("value")?,
            input.required_int("timestamp")?,
            input.int("step")?.unwrap_or(0),
        )
    })
}

fn model_links(input: &Input, field: &str) -> Result<Vec<ModelLink>, ApiError> {
    input
        .objects(field)?
        .iter()
        .map(|model| {
            Ok(ModelLink {
                model_id: model.required("model_id")?,
                step: model.int("step")?,
            })
        })
        .collect()
}

pub async fn create(State(app): State<App>, input: Input) -> Answer {
    let run = app
        .store
        .create_run(CreateRun {
            experiment_id: input.text("experiment_id")?.filter(|s| !s.is_empty()),
            run_name: input.text("run_name")?.filter(|s| !s.is_empty()),
            user_id: input.text("user_id")?,
            start_time: input.int("start_time")?,
            tags: run_tags(&input, "tags")?,
            run_id: None,
        })
        .await?;
    Ok(Json(json!({ "run": wire::run(&run) })))
}

pub async fn get(State(app): State<App>, input: Input) -> Answer {
    let run = app.store.get_run(&input.run_id()?).await?;
    Ok(Json(json!({ "run": wire::run(&run) })))
}

pub async fn update(State(app): State<App>, input: Input) -> Answer {
    let info = app
        .store
        .update_run(
            &input.run_id()?,
            wire::run_status(&input, "status")?,
            input.int("end_time")?,
            input.text("run_name")?.filter(|s| !s.is_empty()).as_deref(),
        )
        .await?;
    Ok(Json(json!({ "run_info": wire::run_info(&info) })))
}

pub async fn delete(State(app): State<App>, input: Input) -> Answer {
    app.store.delete_run(&input.required("run_id")?).await?;
    Ok(done())
}

pub async fn restore(State(app): State<App>, input: Input) -> Answer {
    app.store.restore_run(&input.required("run_id")?).await?;
    Ok(done())
}

pub async fn search(State(app): State<App>, input: Input) -> Answer {
    let search = Search {
        experiment_ids: input.texts("experiment_ids")?,
        filter: input.text("filter")?.unwrap_or_default(),
        order_by: input.texts("order_by")?,
        max_results: crate::search::max_results(input.int("max_results")?)?,
        view_type: wire::view_type(&input, "run_view_type")?,
        page_token: input.text("page_token")?,
        ..Search::runs()
    };
    let (runs, next_page_token) = app.store.search_runs(&search).await?;
    Ok(Json(wire::page(
        "runs",
        runs.iter().map(wire::run).collect(),
        next_page_token,
    )))
}

pub async fn log_metric(State(app): State<App>, input: Input) -> Answer {
    app.store
        .log_metric(&input.run_id()?, metric(&input)?)
        .await?;
    Ok(done())
}

pub async fn log_param(State(app): State<App>, input: Input) -> Answer {
    let value = truncated(
        input.text("value")?.unwrap_or_default(),
        MAX_PARAM_VALUE_LENGTH,
    );
    app.store
        .log_param(&input.run_id()?, &input.required("key")?, &value)
        .await?;
    Ok(done())
}

pub async fn set_tag(State(app): State<App>, input: Input) -> Answer {
    let value = truncated(
        input.text("value")?.unwrap_or_default(),
        MAX_TAG_VALUE_LENGTH,
    );
    app.store
        .set_tag(&input.run_id()?, &input.required("key")?, &value)
        .await?;
    Ok(done())
}

pub async fn delete_tag(State(app): State<App>, input: Input) -> Answer {
    app.store
        .delete_tag(&input.required("run_id")?, &input.required("key")?)
        .await?;
    Ok(done())
}

pub async fn log_batch(State(app): State<App>, input: Input) -> Answer {
    let metrics = input
        .objects("metrics")?
        .iter()
        .map(metric)
        .collect::<Result<Vec<_>, _>>()?;
    app.store
        .log_batch(
            &input.run_id()?,
            metrics,
            params(&input, "params")?,
            run_tags(&input, "tags")?,
        )
        .await?;
    Ok(done())
}

pub async fn log_model(State(app): State<App>, input: Input) -> Answer {
    app.store
        .log_model(&input.run_id()?, &input.required("model_json")?)
        .await?;
    Ok(done())
}

pub async fn log_inputs(State(app): State<App>, input: Input) -> Answer {
    let datasets = input
        .objects("datasets")?
        .iter()
        .map(|item| {
            let dataset = item.object("dataset")?.ok_or_else(|| {
                ApiError::from(crate::RunqlError::invalid(
                    "Missing value for required parameter 'datasets[].dataset'",
                ))
            })?;
            Ok(DatasetInput {
                dataset: Dataset {
                    name: dataset.required("name")?,
                    digest: dataset.required("digest")?,
                    source_type: dataset.required("source_type")?,
                    source: dataset.required("source")?,
                    schema: dataset.text("schema")?,
                    profile: dataset.text("profile")?,
                },
                tags: item.tags("tags")?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    app.store
        .log_inputs(
            &input.required("run_id")?,
            datasets,
            model_links(&input, "models")?,
        )
        .await?;
    Ok(done())
}

pub async fn log_outputs(State(app): State<App>, input: Input) -> Answer {
    app.store
        .log_outputs(&input.required("run_id")?, model_links(&input, "models")?)
        .await?;
    Ok(done())
}
