//! Template functions: Sprig's arithmetic (`numeric.go` and `functions.go`): integer
//! `add add1 sub div mod mul max min biggest randInt` (int64, through `cast.ToInt64`, wrapping
//! on overflow as Go does), float `addf add1f subf mulf divf` (shopspring/decimal: exact
//! decimal arithmetic on the floats' shortest forms, division to 16 places), `maxf minf floor
//! ceil round`, conversions `int int64 float64 atoi toDecimal`.
//!
//! Go panics become the errors Helm prints: integer division by zero is "runtime error:
//! integer divide by zero", `divf` by zero "decimal division by 0", a NaN or infinite operand of
//! the float family "Cannot create a Decimal from NaN", `randInt` with an empty range "invalid
//! argument to Intn". Checked against helm v4.1.4.

use num_bigint::BigInt;

use super::cast::{atoi, ldexp, parse_int, to_float64, to_int, to_int64};
use super::strings::{arg_int, arg_str};
use super::{FuncCtx, FuncError, FuncMap, FuncResult, Sig, Ty};
use crate::fmt::{format_float_g, format_v, shortest_digits};
use crate::value::Value;

pub(crate) fn register(map: &mut FuncMap) {
    use Ty::{Any, Float64, Int, String as S};
    map.add("add1", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::Int64(to_int64(arg(a, 0)).wrapping_add(1)))
    });
    map.add("add", Sig::variadic(&[], Any), |_, a| {
        Ok(Value::Int64(
            a.iter().fold(0i64, |acc, x| acc.wrapping_add(to_int64(x))),
        ))
    });
    map.add("sub", Sig::fixed(&[Any, Any]), |_, a| {
        Ok(Value::Int64(
            to_int64(arg(a, 0)).wrapping_sub(to_int64(arg(a, 1))),
        ))
    });
    map.add("div", Sig::fixed(&[Any, Any]), |_, a| {
        let d = nonzero(to_int64(arg(a, 1)))?;
        Ok(Value::Int64(to_int64(arg(a, 0)).wrapping_div(d)))
    });
    map.add("mod", Sig::fixed(&[Any, Any]), |_, a| {
        let d = nonzero(to_int64(arg(a, 1)))?;
        Ok(Value::Int64(to_int64(arg(a, 0)).wrapping_rem(d)))
    });
    map.add("mul", Sig::variadic(&[Any], Any), |_, a| {
        let first = to_int64(arg(a, 0));
        Ok(Value::Int64(
            a.iter()
                .skip(1)
                .fold(first, |acc, x| acc.wrapping_mul(to_int64(x))),
        ))
    });
    map.add("randInt", Sig::fixed(&[Int, Int]), rand_int);
    for name in ["max", "biggest"] {
        map.add(name, Sig::variadic(&[Any], Any), |_, a| {
            Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))
        });
    }
    map.add("min", Sig::variadic(&[Any], Any), |_, a| {
        Ok(Value::Int64(a.iter().map(to_int64).min().unwrap_or(0)))
    });
    map.add("maxf", Sig::variadic(&[Any], Any), |_, a| {
        let first = to_float64(arg(a, 0));
        Ok(Value::Float(
            a.iter().skip(1).map(to_float64).fold(first, go_max),
        ))
    });
    map.add("minf", Sig::variadic(&[Any], Any), |_, a| {
        let first = to_float64(arg(a, 0));
        Ok(Value::Float(
            a.iter().skip(1).map(to_float64).fold(first, go_min),
        ))
    });
    map.add("add1f", Sig::fixed(&[Any]), |_, a| {
        decimal_op(arg(a, 0), &[Value::Int(1)], Op::Add)
    });
    map.add("addf", Sig::variadic(&[], Any), |_, a| {
        decimal_op(&Value::Float(0.0), a, Op::Add)
    });
    map.add("subf", Sig::variadic(&[Any], Any), |_, a| {
        decimal_op(arg(a, 0), a.get(1..).unwrap_or(&[]), Op::Sub)
    });
    map.add("mulf", Sig::variadic(&[Any], Any), |_, a| {
        decimal_op(arg(a, 0), a.get(1..).unwrap_or(&[]), Op::Mul)
    });
    map.add("divf", Sig::variadic(&[Any], Any), |_, a| {
        decimal_op(arg(a, 0), a.get(1..).unwrap_or(&[]), Op::Div)
    });
    map.add("floor", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::Float(to_float64(arg(a, 0)).floor()))
    });
    map.add("ceil", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::Float(to_float64(arg(a, 0)).ceil()))
    });
    map.add("round", Sig::variadic(&[Any, Int], Float64), round);
    map.add("int", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::Int(to_int(arg(a, 0))))
    });
    map.add("int64", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::Int64(to_int64(arg(a, 0))))
    });
    map.add("float64", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::Float(to_float64(arg(a, 0))))
    });
    map.add("atoi", Sig::fixed(&[S]), |_, a| {
        Ok(Value::Int(atoi(arg_str(a, 0)).unwrap_or(0)))
    });
    map.add("toDecimal", Sig::fixed(&[Any]), |_, a| {
        Ok(Value::Int64(
            parse_int(&format_v(arg(a, 0)), 8).unwrap_or(0),
        ))
    });
}

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&Value::Nil)
}

fn nonzero(d: i64) -> Result<i64, FuncError> {
    if d == 0 {
        return Err(FuncError::msg("runtime error: integer divide by zero"));
    }
    Ok(d)
}

fn rand_int(c: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let (min, max) = (arg_int(a, 0), arg_int(a, 1));
    let n = max.wrapping_sub(min);
    if n <= 0 {
        return Err(FuncError::msg("invalid argument to Intn"));
    }
    let r = c.env.random_below(n as u64) as i64;
    Ok(Value::Int(r.wrapping_add(min)))
}

/// Go's `math.Max`.
fn go_max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y { x } else { y }
}

/// Go's `math.Min`.
fn go_min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y { x } else { y }
}

/// Go's `math.Pow(10, y)` for an integral `y`, by Go's own algorithm (repeated squaring of the
/// `Frexp` mantissa), so the result is bit-identical to Go's.
fn go_pow10(y: f64) -> f64 {
    if y == 0.0 {
        return 1.0;
    }
    if y == 1.0 {
        return 10.0;
    }
    let yi = y.abs().trunc();
    if yi >= 2f64.powi(63) {
        return if y > 0.0 { f64::INFINITY } else { 0.0 };
    }
    let mut a1 = 1.0f64;
    let mut ae: i64 = 0;
    // Frexp(10) = 0.625 × 2^4.
    let mut x1 = 0.625f64;
    let mut xe: i64 = 4;
    let mut i = yi as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae.clamp(-100_000, 100_000) as i32)
}

/// Sprig's `round`: `roundOn` (default .5) decides between `Ceil` and `Floor` of the scaled
/// value, on its fractional part with sign (so negatives round down).
fn round(_: &mut FuncCtx<'_>, a: &[Value]) -> FuncResult {
    let val = to_float64(arg(a, 0));
    let places = arg_int(a, 1) as f64;
    let round_on = match a.get(2) {
        Some(Value::Float(f)) => *f,
        Some(Value::Int(n) | Value::Int64(n)) => *n as f64,
        _ => 0.5,
    };
    let pow = go_pow10(places);
    let digit = pow * val;
    let frac = if digit.is_infinite() {
        0.0
    } else {
        digit - digit.trunc()
    };
    let r = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(r / pow))
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A shopspring/decimal value: `mant × 10^exp`.
#[derive(Clone, Debug)]
struct Decimal {
    mant: BigInt,
    exp: i64,
}

/// Largest decimal exponent gap an operation may bridge (bounds the big integers built).
const MAX_EXP_GAP: i64 = 4000;

impl Decimal {
    /// `decimal.NewFromFloat`: the float's shortest round-trip digits.
    fn from_float(f: f64) -> Result<Decimal, FuncError> {
        if !f.is_finite() {
            return Err(FuncError::msg(format!(
                "Cannot create a Decimal from {}",
                format_float_g(f)
            )));
        }
        if f == 0.0 {
            return Ok(Decimal {
                mant: BigInt::from(0),
                exp: 0,
            });
        }
        let (neg, digits, exp10) = shortest_digits(f);
        let mut mant: BigInt = digits.parse().unwrap_or_default();
        if neg {
            mant = -mant;
        }
        Ok(Decimal {
            mant,
            exp: i64::from(exp10) - (digits.len() as i64 - 1),
        })
    }

    fn scaled(&self, exp: i64) -> BigInt {
        let gap = (self.exp - exp).clamp(0, MAX_EXP_GAP) as u32;
        &self.mant * BigInt::from(10).pow(gap)
    }

    fn apply(self, op: Op, other: Decimal) -> Result<Decimal, FuncError> {
        match op {
            Op::Add | Op::Sub => {
                let exp = self
                    .exp
                    .min(other.exp)
                    .max(self.exp.max(other.exp) - MAX_EXP_GAP);
                let (x, y) = (self.scaled(exp), other.scaled(exp));
                let mant = if matches!(op, Op::Add) { x + y } else { x - y };
                Ok(Decimal { mant, exp })
            }
            Op::Mul => Ok(Decimal {
                mant: self.mant * other.mant,
                exp: self.exp + other.exp,
            }),
            Op::Div => {
                if other.mant == BigInt::from(0) {
                    return Err(FuncError::msg("decimal division by 0"));
                }
                // DivRound(d2, 16): quotient truncated to 16 places, then half away from zero.
                const PRECISION: i64 = 16;
                let k = (self.exp - other.exp + PRECISION).clamp(-MAX_EXP_GAP, MAX_EXP_GAP);
                let ten = BigInt::from(10);
                let (num, den) = if k >= 0 {
                    (&self.mant * ten.pow(k as u32), other.mant.clone())
                } else {
                    (self.mant.clone(), &other.mant * ten.pow((-k) as u32))
                };
                let mut q = &num / &den;
                let r = &num % &den;
                let twice_r = r.magnitude() * 2u32;
                if twice_r >= *den.magnitude() {
                    let negative = (num.sign() == num_bigint::Sign::Minus)
                        != (den.sign() == num_bigint::Sign::Minus);
                    if negative {
                        q -= 1;
                    } else {
                        q += 1;
                    }
                }
                Ok(Decimal {
                    mant: q,
                    exp: -PRECISION,
                })
            }
        }
    }

    /// `Float64()`: the nearest float to the exact value.
    fn to_f64(&self) -> f64 {
        format!("{}e{}", self.mant, self.exp).parse().unwrap_or(0.0)
    }
}

/// Sprig's `execDecimalOp`.
fn decimal_op(first: &Value, rest: &[Value], op: Op) -> FuncResult {
    let mut acc = Decimal::from_float(to_float64(first))?;
    for x in rest {
        let d = Decimal::from_float(to_float64(x))?;
        acc = acc.apply(op, d)?;
    }
    Ok(Value::Float(acc.to_f64()))
}

#[cfg(test)]
mod tests {
    use super::super::cast::tests_support::{call, call_err, s};
    use crate::fmt::format_v;
    use crate::value::Value;

    #[test]
    fn helm_observed_math() {
        // Expectations read off helm v4.1.4.
        let i = Value::Int;
        let f = Value::Float;
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("round", vec![f(2.5), i(0)], "3"),
            ("round", vec![f(-2.5), i(0)], "-3"),
            ("round", vec![f(1.2345), i(2)], "1.23"),
            ("round", vec![f(1.005), i(2)], "1"),
            ("round", vec![f(2.4), i(0), f(0.4)], "2"),
            ("max", vec![i(1), s("5"), f(3.7)], "5"),
            ("min", vec![i(3), f(-2.9), s("x")], "-2"),
            ("maxf", vec![i(1), s("5.5"), i(3)], "5.5"),
            ("addf", vec![f(1.1), f(2.2)], "3.3"),
            ("subf", vec![i(1), f(0.9)], "0.1"),
            ("mulf", vec![f(1.1), i(3)], "3.3"),
            ("divf", vec![i(10), i(3)], "3.3333333333333335"),
            ("divf", vec![i(2), i(3)], "0.6666666666666667"),
            ("add1f", vec![f(0.1)], "1.1"),
            ("addf", vec![], "0"),
            ("floor", vec![s("1.5")], "1"),
            ("ceil", vec![f(-1.5)], "-1"),
            ("toDecimal", vec![i(777)], "511"),
            ("toDecimal", vec![s("0o17")], "0"),
            ("atoi", vec![s("+5")], "5"),
            ("atoi", vec![s("1_0")], "0"),
            ("int64", vec![s("12.00")], "12"),
            ("int", vec![s("0x1F")], "31"),
            ("float64", vec![s("inf")], "+Inf"),
            ("add", vec![i(1), f(2.9), s("3"), Value::Nil], "6"),
            ("add1", vec![Value::Int64(i64::MAX)], "-9223372036854775808"),
            ("sub", vec![i(1), i(3)], "-2"),
            ("div", vec![i(7), i(-2)], "-3"),
            ("mod", vec![i(-7), i(2)], "-1"),
            ("mul", vec![i(2), i(3), f(4.5)], "24"),
            ("mul", vec![i(2)], "2"),
            ("biggest", vec![i(1), i(9)], "9"),
            ("maxf", vec![f(1.0), f(f64::NAN)], "NaN"),
            ("minf", vec![f(-0.0), f(0.0)], "-0"),
        ];
        for (name, args, want) in cases {
            assert_eq!(format_v(&call(name, args.clone())), want, "{name} {args:?}");
        }
    }

    #[test]
    fn math_types_are_go_types() {
        // typeOf in helm v4.1.4: add -> int64, atoi -> int, max -> int64, round -> float64.
        assert_eq!(call("add", vec![Value::Int(1)]).type_name(), "int64");
        assert_eq!(call("atoi", vec![s("1")]).type_name(), "int");
        assert_eq!(call("int", vec![s("1")]).type_name(), "int");
        assert_eq!(call("max", vec![Value::Int(1)]).type_name(), "int64");
        assert_eq!(
            call("round", vec![Value::Int(1), Value::Int(1)]).type_name(),
            "float64"
        );
    }

    #[test]
    fn helm_observed_math_errors() {
        let i = Value::Int;
        assert_eq!(
            call_err("div", vec![i(1), i(0)]),
            "runtime error: integer divide by zero"
        );
        assert_eq!(
            call_err("mod", vec![i(1), i(0)]),
            "runtime error: integer divide by zero"
        );
        assert_eq!(
            call_err("randInt", vec![i(5), i(5)]),
            "invalid argument to Intn"
        );
        assert_eq!(call_err("divf", vec![i(1), i(0)]), "decimal division by 0");
        assert_eq!(
            call_err("addf", vec![s("NaN"), i(1)]),
            "Cannot create a Decimal from NaN"
        );
    }

    #[test]
    fn rand_int_stays_in_range() {
        for _ in 0..20 {
            let v = call("randInt", vec![Value::Int(-3), Value::Int(4)]);
            assert!(matches!(v, Value::Int(n) if (-3..4).contains(&n)));
        }
    }

    #[test]
    fn decimal_extremes_stay_bounded() {
        let v = call("addf", vec![Value::Float(1e308), Value::Float(1e-308)]);
        assert_eq!(format_v(&v), "1e+308");
        let v = call("mulf", vec![Value::Float(1e308), Value::Float(1e308)]);
        assert_eq!(format_v(&v), "+Inf");
        let v = call("divf", vec![Value::Float(1e-300), Value::Float(1e300)]);
        assert_eq!(format_v(&v), "0");
    }
}
