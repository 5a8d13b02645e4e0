using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using TokenAdmin.Data;

namespace TokenAdmin.Mail;

/// <summary>
/// Inserts a batch of index rows of fetched mail in one statement per <see cref="RowsPerStatement"/> rows
/// (<c>INSERT … VALUES (…), (…) RETURNING "Id", "MailAccountId", "ServerKey"</c>) and sets each row's <see cref="FetchedMessage.Id"/>. The
/// rows are not tracked by the context.
/// </summary>
/// <remarks>
/// Note: EF Core's change tracking made saving a page of 50 rows cost about 30 KB of garbage and 80 µs of CPU per row
/// (measured in the Graph fetch benchmark, docs/performance.md), a fifth of what the fetcher adds to a bare download
/// loop. The statement is built from the model (table, column names, the type mappings and their converters, such as
/// the UTC conversion of times), so it follows the mapping as EF Core's own insert does, on SQLite and PostgreSQL alike.
/// </remarks>
internal static class FetchedMessageRows
{
    /// <summary>At most this many rows per statement: 10 parameters each stays far below SQLite's 32,766 and PostgreSQL's 65,535.</summary>
    private const int RowsPerStatement = 500;

    /// <summary>
    /// Inserts <paramref name="rows"/> in the context's current transaction, if any (otherwise each statement commits
    /// on its own).
    /// </summary>
    /// <exception cref="DbUpdateException">the database refused the rows (a unique key stored meanwhile, most likely by
    /// another process); <see cref="Exception.InnerException"/> is the provider's own exception</exception>
    public static async Task InsertAsync(TokenAdminDb db, IReadOnlyList<FetchedMessage> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var shape = Shape.Of(db);
        var database = db.Database;
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            // Note: more than one statement gets a transaction of its own if the caller has none: all rows or none.
            await using var transaction = rows.Count > RowsPerStatement && database.CurrentTransaction is null
                ? await database.BeginTransactionAsync(cancellationToken)
                : null;
            try
            {
                for (var start = 0; start < rows.Count; start += RowsPerStatement)
                {
                    await InsertChunkAsync(db, shape, rows.Skip(start).Take(RowsPerStatement).ToList(), cancellationToken);
                }

                if (transaction is not null)
                {
                    await transaction.CommitAsync(cancellationToken);
                }
            }
            catch when (transaction is not null)
            {
                // Rolled back: none of the rows is in the index.
                foreach (var row in rows)
                {
                    row.Id = 0;
                }

                throw;
            }
        }
        catch (Exception ex) when (ex is not DbUpdateException and not OperationCanceledException)
        {
            // Note: as EF Core's own save does, anything but a cancellation is the index refusing the batch (a unique key,
            // or a value the driver cannot send), so the fetcher says so and clears the batch instead of failing each run.
            throw new DbUpdateException($"The index of fetched mail refused {rows.Count} row(s): {ex.Message}", ex);
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    private static async Task InsertChunkAsync(TokenAdminDb db, Shape shape, List<FetchedMessage> rows, CancellationToken cancellationToken)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        if (db.Database.GetCommandTimeout() is { } timeout)
        {
            command.CommandTimeout = timeout;
        }

        var sql = new StringBuilder(shape.Insert.Length + rows.Count * shape.Columns.Count * 8);
        sql.Append(shape.Insert);
        for (var r = 0; r < rows.Count; r++)
        {
            sql.Append(r == 0 ? "(" : ", (");
            for (var c = 0; c < shape.Columns.Count; c++)
            {
                var (property, mapping) = shape.Columns[c];
                var name = "p" + (r * shape.Columns.Count + c).ToString(CultureInfo.InvariantCulture);
                // Note: CreateParameter applies the mapping's converter and provider type, as EF Core's own insert does.
                command.Parameters.Add(mapping.CreateParameter(command, shape.Sql.GenerateParameterName(name), property.GetGetter().GetClrValue(rows[r]), property.IsNullable));
                sql.Append(c == 0 ? "" : ", ").Append(shape.Sql.GenerateParameterNamePlaceholder(name));
            }

            sql.Append(')');
        }

        sql.Append(shape.Returning);
        command.CommandText = sql.ToString();

        // Note: the order of the rows RETURNING gives back is not defined (SQLite says so): each is matched by its key,
        // which is unique per account.
        var byKey = new Dictionary<(int, string), FetchedMessage>(rows.Count);
        foreach (var row in rows)
        {
            // A key twice in one batch is refused by the unique index below.
            byKey.TryAdd((row.MailAccountId, row.ServerKey), row);
        }

        var assigned = 0;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            // Note: without the token once the statement ran: outside a transaction its rows are committed, so each
            // must get its id (a row with none counts as not in the index).
            while (await reader.ReadAsync(CancellationToken.None))
            {
                var id = reader.GetInt64(0);
                var key = (reader.GetInt32(1), reader.GetString(2));
                if (byKey.Remove(key, out var row))
                {
                    row.Id = id;
                    assigned++;
                }
            }
        }

        if (assigned != rows.Count)
        {
            throw new InvalidOperationException($"The index gave back {assigned} of {rows.Count} inserted rows.");
        }
    }

    /// <summary>The statement's fixed parts and the inserted columns, worked out once per model.</summary>
    private sealed record Shape(string Insert, string Returning, IReadOnlyList<(IProperty Property, RelationalTypeMapping Mapping)> Columns, ISqlGenerationHelper Sql)
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IModel, Shape> Shapes = new();

        public static Shape Of(TokenAdminDb db) => Shapes.GetValue(db.Model, _ => Build(db));

        private static Shape Build(TokenAdminDb db)
        {
            var sql = db.GetService<ISqlGenerationHelper>();
            var entity = db.Model.FindEntityType(typeof(FetchedMessage))!;
            var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
            string Column(string propertyName) => sql.DelimitIdentifier(entity.FindProperty(propertyName)!.GetColumnName(table)!);
            var columns = entity.GetProperties()
                .Where(p => p.ValueGenerated == ValueGenerated.Never)
                .Select(p => (Property: p, Mapping: p.GetRelationalTypeMapping()))
                .ToList();
            var insert = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Property.GetColumnName(table)!)))}) VALUES ";
            var returning = $" RETURNING {Column(nameof(FetchedMessage.Id))}, {Column(nameof(FetchedMessage.MailAccountId))}, {Column(nameof(FetchedMessage.ServerKey))}";
            return new Shape(insert, returning, columns, sql);
        }
    }
}
