//! `/experiments/*`: create, get, get by name, search, rename, delete,
//! restore, and experiment tags.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::search::Search;
use crate::serve::error::ApiResult;
use crate::serve::wire::{self, Input};
use crate::serve::{App, done};

type Answer = ApiResult<Json<Value>>;

pub async fn create(State(app): State<App>, input: Input) -> Answer {
    let name = input.required("name")?;
    let location = input.text("artifact_location")?.filter(|l| !l.is_empty());
    let tags = input.tags("tags")?;
    let experiment_id = app
        .store
        .create_experiment(&name, location.as_deref(), &tags)
        .await?;
    Ok(Json(json!({ "experiment_id": experiment_id })))
}

pub async fn get(State(app): State<App>, input: Input) -> Answer {
    let experiment = app
        .store
        .get_experiment(&input.required("experiment_id")?)
        .await?;
    Ok(Json(json!({ "experiment": wire::experiment(&experiment) })))
}

pub async fn get_by_name(State(app): State<App>, input: Input) -> Answer {
    let experiment = app
        .store
        .get_experiment_by_name(&input.required("experiment_name")?)
        .await?;
    Ok(Json(json!({ "experiment": wire::experiment(&experiment) })))
}

pub async fn search(State(app): State<App>, input: Input) -> Answer {
    let search = Search {
        filter: input.text("filter")?.unwrap_or_default(),
        order_by: input.texts("order_by")?,
        max_results: crate::search::max_results(input.int("max_results")?)?,
        view_type: wire::view_type(&input, "view_type")?,
        page_token: input.text("page_token")?,
        ..Search::experiments()
    };
    let (experiments, next_page_token) = app.store.search_experiments(&search).await?;
    Ok(Json(wire::page(
        "experiments",
        experiments.iter().map(wire::experiment).collect(),
        next_page_token,
    )))
}

pub async fn update(State(app): State<App>, input: Input) -> Answer {
    let experiment_id = input.required("experiment_id")?;
    if let Some(name) = input.text("new_name")? {
        app.store.rename_experiment(&experiment_id, &name).await?;
    }
    Ok(done())
}

pub async fn delete(State(app): State<App>, input: Input) -> Answer {
    app.store
        .delete_experiment(&input.required("experiment_id")?)
        .await?;
    Ok(done())
}

pub async fn restore(State(app): State<App>, input: Input) -> Answer {
    app.store
        .restore_experiment(&input.required("experiment_id")?)
        .await?;
    Ok(done())
}

pub async fn set_tag(State(app): State<App>, input: Input) -> Answer {
    let value = input.text("value")?.unwrap_or_default();
    app.store
        .set_experiment_tag(
            &input.required("experiment_id")?,
            &input.required("key")?,
            &value,
        )
        .await?;
    Ok(done())
}

pub async fn delete_tag(State(app): State<App>, input: Input) -> Answer {
    app.store
        .delete_experiment_tag(&input.required("experiment_id")?, &input.required("key")?)
        .await?;
    Ok(done())
}
