//! How a row struct becomes Arrow columns and back. A struct declared with [`table_rows!`]
//! lists its fields once; each field's type says how one column is built and read
//! ([`Cell`]), and the table's schema says which columns a batch has, in which order and
//! of which Arrow type (an `i64` is an integer or a UTC timestamp as its field says).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Int64Array, ListArray, StringArray, StructArray,
    TimestampSecondArray, UInt32Array, UInt64Array,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields};
use arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::schema::table_schema;

/// A struct whose fields are columns: of a table, or of the items of a list-of-struct column.
pub trait Columnar: Sized {
    /// The column `field` of these rows; None when the struct has no field of that name.
    fn column(rows: &[&Self], field: &Field) -> Result<Option<ArrayRef>>;

    /// Every row of a batch (or of a struct array's children).
    fn read_all(columns: &NamedColumns) -> Result<Vec<Self>>;
}

/// The Rust type of one column.
pub trait Cell: Sized {
    fn column(values: &[&Self], field: &Field) -> Result<ArrayRef>;
    fn read(array: &ArrayRef, row: usize) -> Result<Self>;
}

/// The Rust type of the items of a list column.
pub trait ListItem: Sized {
    /// The flattened items of every row's list.
    fn items(lists: &[&Vec<Self>], item_field: &Field) -> Result<ArrayRef>;
    fn read_items(items: &ArrayRef) -> Result<Vec<Self>>;
}

/// A batch of `table` from rows: the schema's columns, in its order.
pub fn build_batch<T: Columnar>(table: &str, rows: &[T]) -> Result<RecordBatch> {
    let schema = table_schema(table).ok_or_else(|| Error::Internal(format!("no table {table}")))?;
    let refs: Vec<&T> = rows.iter().collect();
    let columns = schema
        .fields()
        .iter()
        .map(|field| required_column(&refs, field, table))
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(schema, columns)
        .map_err(|e| Error::arrow(format!("build {table} batch"), e))
}

/// The rows of a batch.
pub fn read_batch<T: Columnar>(batch: &RecordBatch) -> Result<Vec<T>> {
    T::read_all(&NamedColumns::of_batch(batch))
}

fn required_column<T: Columnar>(rows: &[&T], field: &Field, within: &str) -> Result<ArrayRef> {
    T::column(rows, field)?.ok_or_else(|| {
        Error::Internal(format!(
            "{within} has a column {} that its row struct lacks",
            field.name()
        ))
    })
}

/// The columns of one batch (or of a struct array's children), by name.
pub struct NamedColumns<'a> {
    names: Vec<&'a str>,
    arrays: Vec<&'a ArrayRef>,
    rows: usize,
}

impl<'a> NamedColumns<'a> {
    pub fn of_batch(batch: &'a RecordBatch) -> Self {
        Self {
            names: batch
                .schema_ref()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect(),
            arrays: batch.columns().iter().collect(),
            rows: batch.num_rows(),
        }
    }

    fn of_struct(array: &'a StructArray) -> Self {
        Self {
            names: array.fields().iter().map(|f| f.name().as_str()).collect(),
            arrays: array.columns().iter().collect(),
            rows: array.len(),
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The column `name`; an absent column is an error unless `optional` (then None).
    pub fn find(&self, name: &str, optional: bool) -> Result<Option<&'a ArrayRef>> {
        match self.names.iter().position(|n| *n == name) {
            Some(i) => Ok(Some(self.arrays[i])),
            None if optional => Ok(None),
            None => Err(Error::Input(format!("column {name} missing"))),
        }
    }
}

/// One cell of a column that may be absent (then the type's default).
pub fn read_cell<T: Cell + Default>(array: Option<&ArrayRef>, row: usize) -> Result<T> {
    match array {
        Some(array) => T::read(array, row),
        None => Ok(T::default()),
    }
}

fn downcast<'a, A: 'static>(array: &'a ArrayRef, what: &str) -> Result<&'a A> {
    array
        .as_any()
        .downcast_ref::<A>()
        .ok_or_else(|| Error::Input(format!("a column is not of type {what}")))
}

fn non_null<T: Copy>(a: &ArrayRef, row: usize, value: T) -> Option<T> {
    (!a.is_null(row)).then_some(value)
}

impl Cell for String {
    fn column(values: &[&Self], _field: &Field) -> Result<ArrayRef> {
        Ok(Arc::new(StringArray::from_iter_values(values)))
    }
    fn read(array: &ArrayRef, row: usize) -> Result<Self> {
        Ok(downcast::<StringArray>(array, "string")?
            .value(row)
            .to_string())
    }
}

impl Cell for Option<String> {
    fn column(values: &[&Self], _field: &Field) -> Result<ArrayRef> {
        Ok(Arc::new(StringArray::from_iter(
            values.iter().map(|v| v.as_deref()),
        )))
    }
    fn read(array: &ArrayRef, row: usize) -> Result<Self> {
        let strings = downcast::<StringArray>(array, "string")?;
        Ok((!strings.is_null(row)).then(|| strings.value(row).to_string()))
    }
}

/// An integer column, or a timestamp in seconds when the schema says so.
impl Cell for i64 {
    fn column(values: &[&Self], field: &Field) -> Result<ArrayRef> {
        integers(values.iter().map(|v| Some(**v)), field, false)
    }
    fn read(array: &ArrayRef, row: usize) -> Result<Self> {
        integer(array, row)
    }
}

impl Cell for Option<i64> {
    fn column(values: &[&Self], field: &Field) -> Result<ArrayRef> {
        integers(values.iter().map(|v| **v), field, true)
    }
    fn read(array: &ArrayRef, row: usize) -> Result<Self> {
        Ok(non_null(array, row, integer(array, row)?))
    }
}

fn integers(
    values: impl Iterator<Item = Option<i64>>,
    field: &Field,
    nullable: bool,
) -> Result<ArrayRef> {
    // Built from exact-size vectors: a part rolls over by the batches' memory size, so the
    // buffers' capacity decides where parts end and must not depend on how they grew.
    let values: Vec<Option<i64>> = values.collect();
    let present = || {
        let mut exact = Vec::with_capacity(values.len());
        exact.extend(values.iter().flatten());
        exact
    };
    Ok(match field.data_type() {
        DataType::Timestamp(_, zone) if nullable => {
            Arc::new(TimestampSecondArray::from_iter(values).with_timezone_opt(zone.clone()))
        }
        DataType::Timestamp(_, zone) => Arc::new(
            TimestampSecondArray::from_iter_values(present()).with_timezone_opt(zone.clone()),
        ),
        _ if nullable => Arc::new(Int64Array::from_iter(values)),
        _ => Arc::new(Int64Array::from_iter_values(present())),
    })
}

fn integer(array: &ArrayRef, row: usize) -> Result<i64> {
    match array.data_type() {
        DataType::Timestamp(_, _) => {
            Ok(downcast::<TimestampSecondArray>(array, "timestamp")?.value(row))
        }
        _ => Ok(downcast::<Int64Array>(array, "int64")?.value(row)),
    }
}

impl Cell for u64 {
    fn column(values: &[&Self], _field: &Field) -> Result<ArrayRef> {
        Ok(Arc::new(UInt64Array::from_iter_values(
            values.iter().map(|v| **v),
        )))
    }
    fn read(array: &ArrayRef, row: usize) -> Result<Self> {
        Ok(downcast::<UInt64Array>(array, "uint64")?.value(row))
    }
}

impl Cell for bool {
    fn column(values: &[&Self], _field: &Field) -> Result<ArrayRef> {
        Ok(Arc::new(BooleanArray::from_iter(
            values.iter().map(|v| Some(**v)),
        )))
    }
    fn read(array: &ArrayRef, row: usize) -> Result<Self> {
        Ok(downcast::<BooleanArray>(array, "boolean")?.value(row))
    }
}

impl Cell for Option<bool> {
    fn column(values: &[&Self], _field: &Field) -> Result<ArrayRef> {
        Ok(Arc::new(BooleanArray::from_iter(
            values.iter().map(|v| **v),
        )))
    }
    fn read(array: &ArrayRef, row: usize) -> Result<Self> {
        let booleans = downcast::<BooleanArray>(array, "boolean")?;
        Ok(non_null(array, row, booleans.value(row)))
    }
}

impl<T: ListItem> Cell for Vec<T> {
    fn column(values: &[&Self], field: &Field) -> Result<ArrayRef> {
        let DataType::List(item_field) = field.data_type() else {
            return Err(Error::Internal(format!("{} is not a list", field.name())));
        };
        let list = ListArray::try_new(
            item_field.clone(),
            OffsetBuffer::from_lengths(values.iter().map(|v| v.len())),
            T::items(values, item_field)?,
            None,
        )
        .map_err(|e| Error::arrow(format!("build list column {}", field.name()), e))?;
        Ok(Arc::new(list))
    }
    fn read(array: &ArrayRef, row: usize) -> Result<Self> {
        T::read_items(&downcast::<ListArray>(array, "list")?.value(row))
    }
}

impl ListItem for String {
    fn items(lists: &[&Vec<Self>], _item_field: &Field) -> Result<ArrayRef> {
        let values: Vec<&str> = lists
            .iter()
            .flat_map(|l| l.iter().map(String::as_str))
            .collect();
        Ok(Arc::new(StringArray::from_iter_values(values)))
    }
    fn read_items(items: &ArrayRef) -> Result<Vec<Self>> {
        let strings = downcast::<StringArray>(items, "list of strings")?;
        Ok(strings
            .iter()
            .map(|s| s.unwrap_or_default().to_string())
            .collect())
    }
}

impl ListItem for u32 {
    fn items(lists: &[&Vec<Self>], _item_field: &Field) -> Result<ArrayRef> {
        // Streamed, not collected first: the buffer grows as the token tables always
        // built it, so parts end where they did (see `integers`).
        Ok(Arc::new(UInt32Array::from_iter_values(
            lists.iter().flat_map(|l| l.iter().copied()),
        )))
    }
    fn read_items(items: &ArrayRef) -> Result<Vec<Self>> {
        Ok(downcast::<UInt32Array>(items, "list of uint32")?
            .values()
            .to_vec())
    }
}

/// The items of a list-of-struct column: one child column per field of the struct.
pub fn struct_items<T: Columnar>(lists: &[&Vec<T>], item_field: &Field) -> Result<ArrayRef> {
    let values: Vec<&T> = lists.iter().flat_map(|l| l.iter()).collect();
    let DataType::Struct(fields) = item_field.data_type() else {
        return Err(Error::Internal(format!(
            "{} is not a struct",
            item_field.name()
        )));
    };
    let columns = fields
        .iter()
        .map(|field| required_column(&values, field, item_field.name()))
        .collect::<Result<Vec<_>>>()?;
    let array = StructArray::try_new(Fields::clone(fields), columns, None)
        .map_err(|e| Error::arrow("build struct column", e))?;
    Ok(Arc::new(array))
}

pub fn read_struct_items<T: Columnar>(items: &ArrayRef) -> Result<Vec<T>> {
    T::read_all(&NamedColumns::of_struct(downcast::<StructArray>(
        items,
        "list of structs",
    )?))
}

/// Declares row structs once: the struct as written, and its columns for [`Columnar`].
///
/// `table "name"` gives the struct `batch`, `table_batch` and `from_batch`; `item` makes it
/// the item of list-of-struct columns. `optional [a, b]` names columns some tables lack
/// (read as the type's default).
#[macro_export]
macro_rules! table_rows {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($($kind:tt)+) $(optional [$($optional:ident),*])? {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty ),*
        }

        impl $crate::rows::codec::Columnar for $name {
            fn column(
                rows: &[&Self],
                field: &::arrow::datatypes::Field,
            ) -> $crate::error::Result<Option<::arrow::array::ArrayRef>> {
                match field.name().as_str() {
                    $( stringify!($field) => {
                        let values: Vec<&$ty> = rows.iter().map(|r| &r.$field).collect();
                        <$ty as $crate::rows::codec::Cell>::column(&values, field).map(Some)
                    } )*
                    _ => Ok(None),
                }
            }

            fn read_all(
                columns: &$crate::rows::codec::NamedColumns,
            ) -> $crate::error::Result<Vec<Self>> {
                let optional: &[&str] = &[$($(stringify!($optional)),*)?];
                $( let $field = columns.find(stringify!($field), optional.contains(&stringify!($field)))?; )*
                (0..columns.rows())
                    .map(|row| {
                        Ok(Self {
                            $( $field: $crate::rows::codec::read_cell($field, row)? ),*
                        })
                    })
                    .collect()
            }
        }

        $crate::table_rows!(@kind $name $($kind)+);
    };
    (@kind $name:ident table $table:expr) => {
        impl $name {
            /// The table this row struct is written to by default.
            pub const TABLE: &'static str = $table;

            /// Rows as a batch of their table.
            pub fn batch(rows: &[Self]) -> $crate::error::Result<::arrow::record_batch::RecordBatch> {
                $crate::rows::codec::build_batch($table, rows)
            }

            /// Rows as a batch of `table` (tables that share these columns, or some of them).
            pub fn table_batch(
                table: &str,
                rows: &[Self],
            ) -> $crate::error::Result<::arrow::record_batch::RecordBatch> {
                $crate::rows::codec::build_batch(table, rows)
            }

            /// The rows of a batch.
            pub fn from_batch(
                batch: &::arrow::record_batch::RecordBatch,
            ) -> $crate::error::Result<Vec<Self>> {
                $crate::rows::codec::read_batch(batch)
            }
        }
    };
    (@kind $name:ident item) => {
        impl $crate::rows::codec::ListItem for $name {
            fn items(
                lists: &[&Vec<Self>],
                item_field: &::arrow::datatypes::Field,
            ) -> $crate::error::Result<::arrow::array::ArrayRef> {
                $crate::rows::codec::struct_items(lists, item_field)
            }
            fn read_items(
                items: &::arrow::array::ArrayRef,
            ) -> $crate::error::Result<Vec<Self>> {
                $crate::rows::codec::read_struct_items(items)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parts roll over by the batches' memory size, so a column's capacity decides where a
    /// part ends: integer columns are built as from a collected vector (the capacity the
    /// tables have always had), not grown through an iterator of unknown length.
    #[test]
    fn integer_columns_have_the_capacity_of_a_collected_vector() {
        let values: Vec<i64> = (0..1000).collect();
        let refs: Vec<&i64> = values.iter().collect();
        let field = Field::new("n", DataType::Int64, false);
        let column = <i64 as Cell>::column(&refs, &field).expect("column");
        let ints = column.as_any().downcast_ref::<Int64Array>().expect("int64");
        let collected = Int64Array::from_iter_values(values.clone());
        let grown = Int64Array::from_iter_values(values.iter().copied().filter(|_| true));
        assert_eq!(
            ints.values().inner().capacity(),
            collected.values().inner().capacity()
        );
        assert_ne!(
            collected.values().inner().capacity(),
            grown.values().inner().capacity(),
            "the two ways differ, which is why the way matters"
        );
    }
}
