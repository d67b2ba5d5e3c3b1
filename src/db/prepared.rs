//! Statements that stay prepared on their connection.
//!
//! diesel keeps a statement prepared only when its SQL cannot vary: a query whose type names
//! its SQL. It never keeps an `UPDATE` built with the query DSL (its `SET` list may vary) nor
//! anything holding an SQL literal, so those are parsed and planned by SQLite again on every
//! run. On the submission path that was a good part of the writer's time. The statements
//! here have fixed SQL, declared with [`fixed_statement!`]: their type is diesel's cache key,
//! so each is prepared once per connection and then only bound and run.

/// Declares a statement with fixed SQL that diesel prepares once per connection.
///
/// ```text
/// fixed_statement! {
///     /// What it does.
///     pub struct Name<'a> { a: i32 => Integer, b: &'a [u8] => Binary }
///     sql: ["UPDATE t SET x = 1 WHERE a = ", " AND b = ", ""],
///     returns: Nullable<Binary>,   // optional: the row type of a query
/// }
/// ```
///
/// `sql` holds the text around the bind parameters, one more part than there are fields
/// (fields are bound in declaration order; a mismatch does not compile). `Name::new` takes
/// the fields in that order.
macro_rules! fixed_statement {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident<$lt:lifetime> {
            $($field:ident : $ty:ty => $sql_type:ty),* $(,)?
        }
        sql: [$first:expr $(, $part:expr)* $(,)?],
        $(returns: $returns:ty,)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy)]
        $vis struct $name<$lt> {
            $($field: $ty,)*
            _lifetime: ::std::marker::PhantomData<&$lt ()>,
        }

        impl<$lt> $name<$lt> {
            #[allow(clippy::too_many_arguments)]
            $vis fn new($($field: $ty),*) -> Self {
                const _: () = {
                    let fields: &[&str] = &[$(stringify!($field)),*];
                    let parts: &[&str] = &[$first $(, $part)*];
                    assert!(
                        fields.len() + 1 == parts.len(),
                        "one SQL part more than bind parameters"
                    );
                };
                $name { $($field,)* _lifetime: ::std::marker::PhantomData }
            }
        }

        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for $name<'_> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
            ) -> diesel::QueryResult<()> {
                out.push_sql($first);
                let parts: &[&str] = &[$($part),*];
                // (Neither is used by a statement without parameters.)
                #[allow(unused_mut, unused_variables)]
                let mut parts = parts.iter();
                $(
                    out.push_bind_param::<$sql_type, _>(&self.$field)?;
                    out.push_sql(parts.next().copied().unwrap_or_default());
                )*
                Ok(())
            }
        }

        impl<Conn> diesel::query_dsl::RunQueryDsl<Conn> for $name<'_> {}

        $(
            impl diesel::query_builder::Query for $name<'_> {
                type SqlType = $returns;
            }
        )?
    };
}

pub(crate) use fixed_statement;
