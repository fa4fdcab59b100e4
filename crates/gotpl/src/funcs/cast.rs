//! Go's `spf13/cast` conversions as Sprig uses them (`ToInt64`, `ToFloat64`, `ToString`, ...).
