//! Running a search as DataFusion logical plans, built from the parsed filter
//! and ordering with `Expr`s, never from SQL text, so no filter can inject SQL.
//!
//! Each metric, param or tag a search names becomes one left join of that
//! key's rows, so a run without the key sees NULL there. The filter then is an
//! ordinary predicate with SQL's three-valued logic: a comparison with a
//! missing key is unknown, so neither it nor its `NOT` matches, while
//! `IS NULL` does. Each dataset condition joins the runs having an input that
//! matches it, and is true exactly for those runs.
//!
//! The search runs in two steps. The first filters, sorts and limits (a top-k,
//! with `key = '…'` filters pushed down to the Delta scans) over the target's
//! scope view, returning only the page's ids and their sort keys. The second
//! reads the rows of just those ids, with their params, tags and latest
//! metrics as maps. An API that reads whole entities by id stops after the
//! first ([`find`]).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field as ArrowField, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Column, JoinType, ScalarValue};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::functions_aggregate::expr_fn::array_agg;
use datafusion::functions_nested::map::map_udf;
use datafusion::logical_expr::expr::Like;
use datafusion::logical_expr::{
    Expr, LogicalPlan, LogicalPlanBuilder, Operator, SortExpr, binary_expr, col, lit, not, try_cast,
};
use datafusion::prelude::SessionContext;

use crate::error::{Context, Result, RunqlError};
use crate::model::ViewType;
use crate::store::schema::timestamp_scalar;

use super::filter::{self, Attribute, Condition, Field, Filter, Target, Test};
use super::lexer::Comparator;
use super::page;

/// At most this many rows per page, as MLflow's limit.
pub const MAX_RESULTS: usize = 50_000;
/// Rows per page when the caller does not say.
pub const DEFAULT_MAX_RESULTS: usize = 1000;

/// One search request: MLflow's `SearchRuns` / `SearchExperiments` fields.
#[derive(Debug, Clone)]
pub struct Search {
    pub target: Target,
    /// Runs only: the experiments to search; empty for all.
    pub experiment_ids: Vec<String>,
    pub filter: String,
    /// Items such as `metrics.rmse ASC`; empty for the default order.
    pub order_by: Vec<String>,
    pub max_results: usize,
    pub view_type: ViewType,
    pub page_token: Option<String>,
}

impl Search {
    pub fn runs() -> Self {
        Self::new(Target::Runs)
    }

    pub fn experiments() -> Self {
        Self::new(Target::Experiments)
    }

    pub fn logged_models() -> Self {
        Self::new(Target::LoggedModels)
    }

    fn new(target: Target) -> Self {
        Search {
            target,
            experiment_ids: Vec::new(),
            filter: String::new(),
            order_by: Vec::new(),
            max_results: DEFAULT_MAX_RESULTS,
            view_type: ViewType::ActiveOnly,
            page_token: None,
        }
    }

    fn fingerprint(&self) -> String {
        let mut ids = self.experiment_ids.clone();
        ids.sort();
        page::fingerprint(&[
            self.shape().view,
            self.view_type.as_str(),
            &ids.join("\u{1}"),
            self.filter.trim(),
            &self.order_by.join("\u{1}"),
        ])
    }

    fn shape(&self) -> &'static Shape {
        Shape::of(self.target)
    }
}

/// One page of results: the searched view's columns plus maps of params,
/// tags and latest metrics (runs) or tags (experiments), in search order.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: RecordBatch,
    /// Where the next page starts; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// How a target's view is searched.
struct Shape {
    /// The view of the results' columns.
    view: &'static str,
    /// The view the first step filters and sorts: the same rows as `view`,
    /// with every attribute a search names, and cheaper to fold.
    scope: &'static str,
    id: &'static str,
    /// The view holding each kind of keyed field, with `key` and `value` columns.
    metrics: &'static str,
    params: &'static str,
    tags: &'static str,
    default_order: (Attribute, bool),
    tie_break: Attribute,
    /// The map columns of a result and the views they aggregate.
    maps: &'static [(&'static str, &'static str)],
}

impl Shape {
    fn of(target: Target) -> &'static Shape {
        match target {
            Target::Runs => &RUNS,
            Target::Experiments => &EXPERIMENTS,
            Target::LoggedModels => &LOGGED_MODELS,
        }
    }
}

const RUNS: Shape = Shape {
    view: "runs",
    scope: "fold.run_state",
    id: "run_id",
    metrics: "latest_metrics",
    params: "params",
    tags: "tags",
    default_order: (Attribute::StartTime, true),
    tie_break: Attribute::RunId,
    maps: &[
        ("params", "params"),
        ("tags", "tags"),
        ("metrics", "latest_metrics"),
    ],
};

const EXPERIMENTS: Shape = Shape {
    view: "experiments",
    scope: "experiments",
    id: "experiment_id",
    metrics: "",
    params: "",
    tags: "experiment_tags",
    default_order: (Attribute::CreationTime, true),
    tie_break: Attribute::ExperimentId,
    maps: &[("tags", "experiment_tags")],
};

const LOGGED_MODELS: Shape = Shape {
    view: "logged_models",
    scope: "logged_models",
    id: "model_id",
    metrics: "",
    params: "logged_model_params",
    tags: "logged_model_tags",
    default_order: (Attribute::CreationTime, true),
    tie_break: Attribute::ModelId,
    maps: &[
        ("params", "logged_model_params"),
        ("tags", "logged_model_tags"),
    ],
};

/// The views a search reads, resolved once from a session that has runql's
/// tables registered.
#[derive(Debug, Clone)]
pub struct Views(HashMap<&'static str, Arc<dyn TableProvider>>);

impl Views {
    const NAMES: [&'static str; 11] = [
        "runs",
        "fold.run_state",
        "latest_metrics",
        "params",
        "tags",
        "inputs",
        "experiments",
        "experiment_tags",
        "logged_models",
        "logged_model_params",
        "logged_model_tags",
    ];

    pub async fn of(ctx: &SessionContext) -> Result<Views> {
        let mut views = HashMap::new();
        for name in Self::NAMES {
            let provider = ctx
                .table_provider(name)
                .await
                .context(|| format!("resolving the {name} view for search"))?;
            views.insert(name, provider);
        }
        Ok(Views(views))
    }

    /// A scan of `view`, its columns qualified by `alias`.
    fn scan(&self, view: &str, alias: &str) -> Result<LogicalPlanBuilder> {
        let provider = self.0.get(view).ok_or_else(|| {
            RunqlError::internal("planning a search", format!("no view named {view}"))
        })?;
        LogicalPlanBuilder::scan(alias, provider_as_source(provider.clone()), None)
            .context(|| format!("planning a scan of {view}"))
    }

    fn schema(&self, view: &str) -> Result<SchemaRef> {
        self.0.get(view).map(|p| p.schema()).ok_or_else(|| {
            RunqlError::internal("planning a search", format!("no view named {view}"))
        })
    }
}

/// Prefixes an invalid-argument message with the argument's name.
fn in_argument(name: &str) -> impl Fn(RunqlError) -> RunqlError {
    move |e| e.prefixed(&format!("{name}: "))
}

/// Runs a search in `session` over `views`.
pub async fn run(session: &dyn Session, views: &Views, search: &Search) -> Result<Page> {
    let found = find(session, views, search).await?;
    let rows = collect(session, with_columns(views, search.shape(), &found.ids)?).await?;
    Ok(Page {
        rows,
        next_page_token: found.next_page_token,
    })
}

/// A page of a search as ids only: what an API that reads whole entities by
/// id needs (see `api/search.rs`).
#[derive(Debug, Clone)]
pub struct Found {
    /// The ids, in search order.
    pub ids: Vec<String>,
    /// Where the next page starts; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// The first step of a search: the ids of a page, filtered, sorted and
/// limited over the target's scope view, with only the sort keys beside them.
pub async fn find(session: &dyn Session, views: &Views, search: &Search) -> Result<Found> {
    let shape = search.shape();
    super::max_results(Some(search.max_results as i64))?;
    let filter = filter::parse(search.target, &search.filter).map_err(in_argument("filter"))?;
    let order = ordering(search)?;
    let fingerprint = search.fingerprint();
    let after = match &search.page_token {
        Some(token) if !token.trim().is_empty() => {
            Some(page::decode(token, &fingerprint, order.len())?)
        }
        _ => None,
    };

    let mut joins = Joins::default();
    let mut plan = views.scan(shape.scope, "s")?;
    let mut scope = Vec::new();
    match search.view_type {
        ViewType::ActiveOnly => scope.push(col("s.lifecycle_stage").eq(lit("active"))),
        ViewType::DeletedOnly => scope.push(col("s.lifecycle_stage").eq(lit("deleted"))),
        ViewType::All => {}
    }
    if !search.experiment_ids.is_empty() {
        scope.push(
            col("s.experiment_id").in_list(search.experiment_ids.iter().map(lit).collect(), false),
        );
    }
    if let Some(scope) = scope.into_iter().reduce(Expr::and) {
        plan = plan.filter(scope).context(planning)?;
    }
    let predicate = filter
        .as_ref()
        .map(|f| joins.compile(f))
        .transpose()?
        .unwrap_or(lit(true));
    let sort_keys = order
        .iter()
        .map(|(field, _)| joins.column(field))
        .collect::<Result<Vec<_>>>()?;
    let predicate = match &after {
        Some(after) => predicate.and(after_row(&sort_keys, &order, after)),
        None => predicate,
    };
    plan = joins.apply(plan, views, shape)?;

    let mut projection = vec![col(format!("s.{}", shape.id))];
    projection.extend(
        sort_keys
            .iter()
            .enumerate()
            .map(|(i, key)| key.clone().alias(format!("__key{i}"))),
    );
    let sorts = sort_keys
        .iter()
        .zip(&order)
        .map(|(key, (_, descending))| SortExpr::new(key.clone(), !descending, false))
        .collect::<Vec<_>>();
    let found = plan
        .filter(predicate)
        .and_then(|p| p.sort(sorts))
        .and_then(|p| p.limit(0, Some(search.max_results + 1)))
        .and_then(|p| p.project(projection))
        .and_then(|p| p.build())
        .context(planning)?;
    let found = collect(session, found).await?;

    let served = found.num_rows().min(search.max_results);
    let next_page_token = if found.num_rows() > search.max_results {
        let keys = (0..order.len())
            .map(|i| ScalarValue::try_from_array(found.column(1 + i), served - 1).context(planning))
            .collect::<Result<Vec<_>>>()?;
        Some(page::encode(&fingerprint, &keys)?)
    } else {
        None
    };
    let ids = found.column(0);
    let ids = (0..served)
        .map(
            |row| match ScalarValue::try_from_array(ids, row).context(planning)? {
                ScalarValue::Utf8(Some(id))
                | ScalarValue::Utf8View(Some(id))
                | ScalarValue::LargeUtf8(Some(id)) => Ok(id),
                other => Err(RunqlError::internal(
                    planning(),
                    format!("an id that is not text: {other}"),
                )),
            },
        )
        .collect::<Result<Vec<_>>>()?;
    Ok(Found {
        ids,
        next_page_token,
    })
}

/// The schema of a search's result rows.
pub fn result_schema(views: &Views, target: Target) -> Result<SchemaRef> {
    let plan = with_columns(views, Shape::of(target), &[])?;
    Ok(Arc::new(plan.schema().as_arrow().clone()))
}

fn planning() -> String {
    "planning a search".to_string()
}

/// The parsed `order_by`, then the target's default order when no order is
/// given, then the tie-breaks that make the order total.
fn ordering(search: &Search) -> Result<Vec<(Field, bool)>> {
    let shape = search.shape();
    let mut order = search
        .order_by
        .iter()
        .map(|item| filter::parse_order(search.target, item))
        .collect::<Result<Vec<_>>>()
        .map_err(in_argument("order_by"))?;
    for (field, descending) in [
        (
            Field::Attribute(shape.default_order.0),
            shape.default_order.1,
        ),
        (Field::Attribute(shape.tie_break), false),
    ] {
        if !order.iter().any(|(f, _)| *f == field) {
            order.push((field, descending));
        }
    }
    Ok(order)
}

/// Rows strictly after `after` in the order of `keys`: for some key, all
/// earlier keys equal (NULL equal to NULL) and this one beyond. NULLs sort
/// last in both directions, so beyond a value also means NULL, and nothing is
/// beyond NULL. The result is never NULL itself.
fn after_row(keys: &[Expr], order: &[(Field, bool)], after: &[ScalarValue]) -> Expr {
    let mut alternatives = Vec::new();
    let mut equal_so_far: Vec<Expr> = Vec::new();
    for ((key, (_, descending)), value) in keys.iter().zip(order).zip(after) {
        if !value.is_null() {
            let value = lit(value.clone());
            let beyond = if *descending {
                key.clone().lt(value.clone())
            } else {
                key.clone().gt(value.clone())
            };
            let beyond = beyond.or(key.clone().is_null());
            alternatives.push(
                equal_so_far
                    .iter()
                    .cloned()
                    .fold(beyond, |all, equal| equal.and(all)),
            );
            equal_so_far.push(binary_expr(key.clone(), Operator::IsNotDistinctFrom, value));
        } else {
            equal_so_far.push(key.clone().is_null());
        }
    }
    alternatives
        .into_iter()
        .reduce(Expr::or)
        .unwrap_or(lit(false))
}

/// The joins a filter and ordering need: one per keyed field, one per
/// dataset condition. Each gets an alias: `k0`, `k1`, … and `d0`, `d1`, ….
#[derive(Default)]
struct Joins {
    keyed: Vec<Field>,
    datasets: Vec<Condition>,
}

impl Joins {
    /// The column an ordering or a condition reads for `field`.
    fn column(&mut self, field: &Field) -> Result<Expr> {
        Ok(match field {
            Field::Attribute(attribute) => col(format!("s.{}", attribute.column())),
            Field::Metric(_) | Field::Param(_) | Field::Tag(_) => {
                let index = match self.keyed.iter().position(|f| f == field) {
                    Some(index) => index,
                    None => {
                        self.keyed.push(field.clone());
                        self.keyed.len() - 1
                    }
                };
                Expr::Column(Column::new(Some(format!("k{index}")), "value"))
            }
            // A dataset field is a set per run: conditions on it are
            // existence tests (see `compile`), and ordering by it is refused.
            Field::Dataset(_) => {
                return Err(RunqlError::internal(
                    "planning a search",
                    "a dataset field has no single value per run",
                ));
            }
        })
    }

    fn compile(&mut self, filter: &Filter) -> Result<Expr> {
        Ok(match filter {
            Filter::And(parts) => self
                .all(parts)?
                .into_iter()
                .reduce(Expr::and)
                .unwrap_or(lit(true)),
            Filter::Or(parts) => self
                .all(parts)?
                .into_iter()
                .reduce(Expr::or)
                .unwrap_or(lit(false)),
            Filter::Not(inner) => not(self.compile(inner)?),
            Filter::Test(condition) if matches!(condition.field, Field::Dataset(_)) => {
                let index = match self.datasets.iter().position(|c| c == condition) {
                    Some(index) => index,
                    None => {
                        self.datasets.push(condition.clone());
                        self.datasets.len() - 1
                    }
                };
                Expr::Column(Column::new(Some(format!("d{index}")), "hit")).is_not_null()
            }
            Filter::Test(condition) => {
                let column = self.column(&condition.field)?;
                test(column, &condition.test)
            }
        })
    }

    fn all(&mut self, parts: &[Filter]) -> Result<Vec<Expr>> {
        parts.iter().map(|p| self.compile(p)).collect()
    }

    /// Left-joins every keyed field and dataset condition onto `plan`.
    fn apply(
        &self,
        mut plan: LogicalPlanBuilder,
        views: &Views,
        shape: &Shape,
    ) -> Result<LogicalPlanBuilder> {
        let id = shape.id;
        for (index, field) in self.keyed.iter().enumerate() {
            let (view, key) = match field {
                Field::Metric(key) => (shape.metrics, key),
                Field::Param(key) => (shape.params, key),
                Field::Tag(key) => (shape.tags, key),
                // `column` keeps only keyed fields here.
                Field::Attribute(_) | Field::Dataset(_) => continue,
            };
            let alias = format!("k{index}");
            let qualified = |name: &str| Expr::Column(Column::new(Some(alias.clone()), name));
            let rows = views
                .scan(view, &alias)?
                .filter(qualified("key").eq(lit(key.as_str())))
                .and_then(|p| p.project(vec![qualified(id), qualified("value")]))
                .and_then(|p| p.build())
                .context(planning)?;
            plan = plan
                .join_on(
                    rows,
                    JoinType::Left,
                    vec![col(format!("s.{id}")).eq(qualified(id))],
                )
                .context(planning)?;
        }
        for (index, condition) in self.datasets.iter().enumerate() {
            let Field::Dataset(field) = condition.field else {
                continue;
            };
            let alias = format!("d{index}");
            let qualified = |name: &str| Expr::Column(Column::new(Some(alias.clone()), name));
            let matching = views
                .scan("inputs", &alias)?
                .filter(test(qualified(field.column()), &condition.test))
                .and_then(|p| p.aggregate(vec![qualified("run_id")], Vec::<Expr>::new()))
                .and_then(|p| p.project(vec![qualified("run_id"), lit(true).alias("hit")]))
                .and_then(|p| p.alias(alias.clone()))
                .and_then(|p| p.build())
                .context(planning)?;
            plan = plan
                .join_on(
                    matching,
                    JoinType::Left,
                    vec![col("s.run_id").eq(qualified("run_id"))],
                )
                .context(planning)?;
        }
        Ok(plan)
    }
}

/// The predicate for one test of `column`.
fn test(column: Expr, test: &Test) -> Expr {
    let compare = |left: Expr, op: Comparator, right: Expr| match op {
        Comparator::Eq => left.eq(right),
        Comparator::NotEq => left.not_eq(right),
        Comparator::Lt => left.lt(right),
        Comparator::LtEq => left.lt_eq(right),
        Comparator::Gt => left.gt(right),
        Comparator::GtEq => left.gt_eq(right),
    };
    match test {
        Test::Number { op, value } => {
            compare(try_cast(column, DataType::Float64), *op, lit(*value))
        }
        Test::Time { op, micros } => compare(column, *op, lit(timestamp_scalar(*micros))),
        Test::Text { op, value } => compare(column, *op, lit(value.as_str())),
        Test::Like {
            pattern,
            negated,
            case_insensitive,
        } => Expr::Like(Like::new(
            *negated,
            Box::new(column),
            Box::new(lit(pattern.as_str())),
            None,
            *case_insensitive,
        )),
        Test::InNumbers { values, negated } => try_cast(column, DataType::Float64)
            .in_list(values.iter().map(|v| lit(*v)).collect(), *negated),
        Test::InTexts { values, negated } => {
            column.in_list(values.iter().map(|v| lit(v.as_str())).collect(), *negated)
        }
        Test::IsNull { negated: false } => column.is_null(),
        Test::IsNull { negated: true } => column.is_not_null(),
    }
}

/// The plan that reads the rows of the page's `ids` (the view's columns plus
/// the map columns), in the order of `ids`.
fn with_columns(views: &Views, shape: &Shape, ids: &[String]) -> Result<LogicalPlan> {
    let id = shape.id;
    let id_values: Vec<Expr> = ids.iter().map(|id| lit(id.as_str())).collect();
    let schema = Arc::new(Schema::new(vec![
        ArrowField::new(id, DataType::Utf8, false),
        ArrowField::new("__position", DataType::Int64, false),
    ]));
    let page = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(ids)),
            Arc::new(Int64Array::from_iter_values(0..ids.len() as i64)),
        ],
    )
    .context(planning)?;
    let page = MemTable::try_new(schema, vec![vec![page]]).context(planning)?;
    let rows = views
        .scan(shape.view, "b")?
        .filter(col(format!("b.{id}")).in_list(id_values.clone(), false))
        .and_then(|p| p.build())
        .context(planning)?;
    let mut plan = LogicalPlanBuilder::scan("p", provider_as_source(Arc::new(page)), None)
        .and_then(|p| {
            p.join_on(
                rows,
                JoinType::Inner,
                vec![col(format!("p.{id}")).eq(col(format!("b.{id}")))],
            )
        })
        .context(planning)?;
    let mut output = views
        .schema(shape.view)?
        .fields()
        .iter()
        .map(|f| Expr::Column(Column::new(Some("b"), f.name())))
        .collect::<Vec<_>>();
    for (index, (name, view)) in shape.maps.iter().enumerate() {
        let alias = format!("m{index}");
        let qualified = |name: &str| Expr::Column(Column::new(Some(alias.clone()), name));
        let map = views
            .scan(view, &alias)?
            .filter(qualified(id).in_list(id_values.clone(), false))
            .and_then(|p| {
                p.aggregate(
                    vec![qualified(id)],
                    vec![
                        array_agg(qualified("key")).alias("keys"),
                        array_agg(qualified("value")).alias("vals"),
                    ],
                )
            })
            .and_then(|p| {
                p.project(vec![
                    qualified(id),
                    map_udf().call(vec![col("keys"), col("vals")]).alias(*name),
                ])
            })
            .and_then(|p| p.alias(alias.clone()))
            .and_then(|p| p.build())
            .context(planning)?;
        plan = plan
            .join_on(
                map,
                JoinType::Left,
                vec![col(format!("p.{id}")).eq(qualified(id))],
            )
            .context(planning)?;
        output.push(qualified(name));
    }
    plan.sort(vec![col("p.__position").sort(true, false)])
        .and_then(|p| p.project(output))
        .and_then(|p| p.build())
        .context(planning)
}

/// Executes a plan and returns its rows as one batch.
async fn collect(session: &dyn Session, plan: LogicalPlan) -> Result<RecordBatch> {
    let what = || "running a search".to_string();
    let physical = session.create_physical_plan(&plan).await.context(what)?;
    let schema = physical.schema();
    let batches = datafusion::physical_plan::collect(physical, session.task_ctx())
        .await
        .context(what)?;
    concat_batches(&schema, &batches).context(what)
}
