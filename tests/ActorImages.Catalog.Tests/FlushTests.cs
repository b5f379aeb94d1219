using Npgsql;

namespace ActorImages.Catalog.Tests;

/// <summary>
/// <see cref="CatalogWrites.AppendFlush"/>: the statements before it commit as one transaction with
/// synchronous_commit off, and the flush after it is a transaction of its own, committed with the session's
/// synchronous_commit (on), in the same round trip. Were the flush inside the first transaction, it would commit
/// without waiting for the WAL, and an acknowledged write could be lost in a database crash.
/// </summary>
public sealed class FlushTests
{
    [Fact]
    public async Task TheFlushIsASecondTransactionCommittedSynchronously()
    {
        await using var db = await Fresh.DatabaseAsync();
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(CatalogWrites.SetLocal("synchronous_commit", "off"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT txid_current()::text, current_setting('synchronous_commit')"));
        CatalogWrites.AppendFlush(batch);
        // What the flush's transaction sees: the same statement, run after the flush in its transaction.
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT txid_current()::text, current_setting('synchronous_commit')"));

        var seen = new List<(string Transaction, string SynchronousCommit)>();
        await using (var reader = await batch.ExecuteReaderAsync())
        {
            do
            {
                if (reader.FieldCount != 2) continue;
                while (await reader.ReadAsync()) seen.Add((reader.GetString(0), reader.GetString(1)));
            }
            while (await reader.NextResultAsync());
        }

        Assert.Equal(2, seen.Count);
        Assert.Equal("off", seen[0].SynchronousCommit);
        Assert.Equal("on", seen[1].SynchronousCommit);
        Assert.NotEqual(seen[0].Transaction, seen[1].Transaction);
    }

    [Fact]
    public async Task AFailureBeforeTheFlushIsThrownAndCommitsNothing()
    {
        await using var db = await Fresh.DatabaseAsync();
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE flush_probe (n int PRIMARY KEY)", connection))
            await create.ExecuteNonQueryAsync();
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO flush_probe VALUES (1)"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO flush_probe VALUES (1)"));
        CatalogWrites.AppendFlush(batch);

        var e = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var reader = await batch.ExecuteReaderAsync();
            while (await reader.NextResultAsync())
            {
            }
        });

        Assert.Equal(PostgresErrorCodes.UniqueViolation, e.SqlState);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM flush_probe", connection);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }
}
