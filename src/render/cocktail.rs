//! Our own package format's templates: minijinja.
//!
//! One environment per render, loaded from the package's in-memory templates (no file system
//! loader). Undefined values are errors when printed, iterated or looked into (an `if` on an
//! undefined value is false, so optional blocks read naturally). Fuel and a recursion limit stop
//! hostile templates. Pure: no clock, no randomness, no cluster lookups.

use base64::Engine as _;
use minijinja::value::{Serde, Value as JValue};
use minijinja::{Environment, Error as JError, ErrorKind, UndefinedBehavior};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::{
    FUEL_PER_TEMPLATE, RECURSION_LIMIT, RenderContext, RenderError, Rendered, TemplateFailure,
    parse_rendered,
};
use crate::model::hex;
use crate::package::{self, Package, Templates};
use crate::yaml;

/// Renders a package of our format with fully resolved `values`.
pub(super) fn render(
    pkg: &Package,
    templates: &Templates,
    values: &Value,
    ctx: &RenderContext,
) -> Result<Rendered, RenderError> {
    let pkg_name = pkg.manifest.name.to_string();
    let env = environment(templates).map_err(|e| template_error(&pkg_name, None, &e))?;
    let context = template_context(pkg, values, ctx);
    let objects = parse_rendered(pkg, ctx, &mut |emit| {
        for (path, _) in templates.rendered() {
            let text = env
                .get_template(path)
                .and_then(|t| t.render(context.clone()))
                .map_err(|e| template_error(&pkg_name, Some(path), &e))?;
            emit(path, text)?;
        }
        Ok(())
    })?;
    let notes = match &templates.notes {
        Some(src) => Some(
            env.render_named_str("NOTES.txt", src, context.clone())
                .map_err(|e| template_error(&pkg_name, Some("NOTES.txt"), &e))?,
        ),
        None => None,
    };
    Ok(Rendered { objects, notes })
}

fn template_context(pkg: &Package, values: &Value, ctx: &RenderContext) -> JValue {
    let m = &pkg.manifest;
    minijinja::context! {
        values => Serde(values),
        release => Serde(&ctx.release),
        package => minijinja::context! {
            name => m.name.as_str(),
            version => m.version.to_string(),
            appVersion => m.app_version.clone().unwrap_or_default(),
        },
        capabilities => minijinja::context! {
            kubeVersion => format!("v{}", ctx.capabilities.kube_version),
            apiVersions => ctx.capabilities.api_versions.clone(),
        },
    }
}

fn template_error(package: &str, template: Option<&str>, e: &JError) -> RenderError {
    let kind = match e.kind() {
        ErrorKind::SyntaxError => TemplateFailure::Syntax,
        ErrorKind::UndefinedError => TemplateFailure::Undefined,
        ErrorKind::OutOfFuel => TemplateFailure::OutOfFuel,
        ErrorKind::InvalidOperation if e.detail() == Some("recursion limit exceeded") => {
            TemplateFailure::Recursion
        }
        ErrorKind::InvalidOperation if e.detail().is_some_and(|d| d.starts_with(FAIL_PREFIX)) => {
            TemplateFailure::Failed
        }
        _ => TemplateFailure::Other,
    };
    let mut message = match e.detail() {
        Some(d) => d.strip_prefix(FAIL_PREFIX).unwrap_or(d).to_string(),
        None => e.kind().to_string(),
    };
    if kind == TemplateFailure::Undefined && e.detail().is_none() {
        message = "undefined value".into();
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    RenderError::Template {
        package: package.to_string(),
        template: e
            .name()
            .map(str::to_string)
            .or(template.map(str::to_string))
            .unwrap_or_else(|| "a template".into()),
        line: e.line(),
        kind,
        message,
    }
}

const FAIL_PREFIX: &str = "fail: ";

fn environment(templates: &Templates) -> Result<Environment<'_>, JError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    // Names the undefined expression in errors (`values.missing` is undefined). minijinja
    // tracks where undefined values come from only in debug mode, which it turns on by
    // default in debug builds alone: a release binary would say just "undefined value".
    env.set_debug(true);
    env.set_fuel(Some(FUEL_PER_TEMPLATE));
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_path_join_callback(|name, parent| {
        if name.starts_with("templates/") {
            return name.to_string().into();
        }
        let mut parts: Vec<&str> = parent.split('/').collect();
        parts.pop();
        for seg in name.split('/') {
            match seg {
                "." | "" => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        parts.join("/").into()
    });
    // Print values the way YAML reads them back: `true`/`false`, `null` for none.
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            return out.write_str("null").map_err(JError::from);
        }
        if value.kind() == minijinja::value::ValueKind::Bool {
            let b = value.is_true();
            return out
                .write_str(if b { "true" } else { "false" })
                .map_err(JError::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
    for (path, src) in &templates.templates {
        env.add_template(path.as_str(), src.as_str())?;
    }
    add_filters(&mut env);
    Ok(env)
}

fn to_json_value(v: &JValue) -> Result<Value, JError> {
    if v.is_undefined() {
        return Err(JError::new(
            ErrorKind::UndefinedError,
            "cannot serialize an undefined value",
        ));
    }
    serde_json::to_value(v).map_err(|e| JError::new(ErrorKind::BadSerialization, e.to_string()))
}

fn str_of(v: &JValue, what: &str) -> Result<String, JError> {
    if v.is_undefined() {
        return Err(JError::new(
            ErrorKind::UndefinedError,
            format!("{what} got an undefined value"),
        ));
    }
    if v.kind() == minijinja::value::ValueKind::Bool {
        let b = v.is_true();
        return Ok(if b { "true" } else { "false" }.to_string());
    }
    Ok(match v.as_str() {
        Some(s) => s.to_string(),
        None if v.is_none() => String::new(),
        None => v.to_string(),
    })
}

fn indent_lines(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    s.split('\n')
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `version` (`v1.30.2`, `1.30`) satisfies the requirement `constraint` (`>=1.25`).
fn semver_compare(constraint: &str, version: &JValue) -> Result<bool, JError> {
    let fail = |e: String| JError::new(ErrorKind::InvalidOperation, format!("semver_compare: {e}"));
    let req = package::parse_kube_constraint(constraint).map_err(fail)?;
    let v = package::parse_kube_version(&str_of(version, "semver_compare")?).map_err(fail)?;
    Ok(req.matches(&v))
}

fn add_filters(env: &mut Environment<'_>) {
    env.add_filter("to_yaml", |v: JValue| -> Result<String, JError> {
        let json = to_json_value(&v)?;
        let text = yaml::to_string(&json)
            .map_err(|e| JError::new(ErrorKind::BadSerialization, e.to_string()))?;
        Ok(text.trim_end_matches('\n').to_string())
    });
    env.add_filter("to_json", |v: JValue| -> Result<String, JError> {
        let json = to_json_value(&v)?;
        serde_json::to_string(&json)
            .map_err(|e| JError::new(ErrorKind::BadSerialization, e.to_string()))
    });
    env.add_filter("indent", |v: JValue, n: usize| -> Result<String, JError> {
        Ok(indent_lines(&str_of(&v, "indent")?, n))
    });
    env.add_filter("nindent", |v: JValue, n: usize| -> Result<String, JError> {
        Ok(format!("\n{}", indent_lines(&str_of(&v, "nindent")?, n)))
    });
    env.add_filter("b64encode", |v: JValue| -> Result<String, JError> {
        Ok(base64::engine::general_purpose::STANDARD.encode(str_of(&v, "b64encode")?))
    });
    env.add_filter("b64decode", |v: JValue| -> Result<String, JError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(str_of(&v, "b64decode")?.trim())
            .map_err(|e| JError::new(ErrorKind::InvalidOperation, format!("b64decode: {e}")))?;
        String::from_utf8(bytes).map_err(|_| {
            JError::new(
                ErrorKind::InvalidOperation,
                "b64decode: result is not UTF-8 text",
            )
        })
    });
    env.add_filter("sha256", |v: JValue| -> Result<String, JError> {
        Ok(hex(&Sha256::digest(str_of(&v, "sha256")?.as_bytes())))
    });
    env.add_filter("quote", |v: JValue| -> Result<String, JError> {
        Ok(Value::String(str_of(&v, "quote")?).to_string())
    });
    env.add_filter(
        "required",
        |v: JValue, message: Option<String>| -> Result<JValue, JError> {
            let missing = v.is_undefined() || v.is_none() || v.as_str() == Some("");
            if missing {
                return Err(JError::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "{FAIL_PREFIX}{}",
                        message.unwrap_or_else(|| "a required value is not set".into())
                    ),
                ));
            }
            Ok(v)
        },
    );
    env.add_filter("default", |v: JValue, fallback: Option<JValue>| -> JValue {
        if v.is_undefined() || v.is_none() {
            fallback.unwrap_or_else(|| JValue::from(""))
        } else {
            v
        }
    });
    env.add_filter("trunc", |v: JValue, n: i64| -> Result<String, JError> {
        let s = str_of(&v, "trunc")?;
        let count = s.chars().count();
        let n_abs = n.unsigned_abs() as usize;
        Ok(if n >= 0 {
            s.chars().take(n_abs).collect()
        } else {
            s.chars().skip(count.saturating_sub(n_abs)).collect()
        })
    });
    env.add_function("semver_compare", |constraint: String, version: JValue| {
        semver_compare(&constraint, &version)
    });
    env.add_filter("semver_compare", |version: JValue, constraint: String| {
        semver_compare(&constraint, &version)
    });
    env.add_function("fail", |message: String| -> Result<String, JError> {
        Err(JError::new(
            ErrorKind::InvalidOperation,
            format!("{FAIL_PREFIX}{message}"),
        ))
    });
}
