using System.Reflection;
using System.Security.Cryptography;
using Npgsql;

namespace ActorImages.Catalog;

/// <summary>
/// The versioned schema: the embedded scripts <c>Migrations/NNNN_name.sql</c>, applied in order, each in its own
/// transaction and recorded in <c>schema_migrations</c> with its checksum. A session-level advisory lock makes
/// nodes that start at the same moment take turns: the first applies what is missing, the others then find
/// nothing to do.
/// </summary>
public static class Migrations
{
    /// <summary>The advisory lock key (the ASCII of "ActorImg"), shared by every ActorImages process.</summary>
    public const long LockKey = 0x4163746F72496D67;

    /// <summary>One migration script.</summary>
    /// <param name="Version">The number before the first <c>_</c> of its file name, e.g. 1 for <c>0001_catalog.sql</c>.</param>
    /// <param name="Name">The file name.</param>
    /// <param name="Sql">The script.</param>
    /// <param name="Checksum">Lowercase hex SHA-256 of the script's UTF-8 bytes.</param>
    public sealed record Script(int Version, string Name, string Sql, string Checksum);

    /// <summary>Every embedded migration, in version order.</summary>
    public static IReadOnlyList<Script> All { get; } = Load();

    /// <summary>Applies every migration the database lacks.</summary>
    /// <param name="dataSource">The database.</param>
    /// <param name="cancellationToken">Cancels waiting for the lock and the scripts.</param>
    /// <returns>The versions applied by this call; empty when the schema was current.</returns>
    /// <exception cref="InvalidOperationException">An applied migration's script changed since (its checksum differs),
    /// or the database holds a version this build does not know (a newer build migrated it).</exception>
    /// <exception cref="NpgsqlException">The database failed; a failed script leaves nothing of itself behind.</exception>
    public static async Task<IReadOnlyList<int>> ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({LockKey})", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, null, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer     PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken).ConfigureAwait(false);
            var applied = await AppliedAsync(connection, cancellationToken).ConfigureAwait(false);
            var known = All.ToDictionary(s => s.Version);
            foreach (var (version, checksum) in applied)
            {
                if (!known.TryGetValue(version, out var script))
                {
                    throw new InvalidOperationException($"The database has schema version {version}, which this build does not know");
                }

                if (script.Checksum != checksum)
                {
                    throw new InvalidOperationException($"Migration {script.Name} changed after it was applied; add a new migration instead");
                }
            }

            var done = new List<int>();
            foreach (var script in All.Where(s => !applied.ContainsKey(s.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, transaction, script.Sql, cancellationToken).ConfigureAwait(false);
                await using (var record = new NpgsqlCommand(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", connection, transaction))
                {
                    record.Parameters.Add(new() { Value = script.Version });
                    record.Parameters.Add(new() { Value = script.Name });
                    record.Parameters.Add(new() { Value = script.Checksum });
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                done.Add(script.Version);
            }

            return done;
        }
        finally
        {
            // Not cancellable: the lock must go whatever happened, or the next node would wait for this connection.
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<Dictionary<int, string>> AppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<int, string>();
        await using var command = new NpgsqlCommand("SELECT version, checksum FROM schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static List<Script> Load()
    {
        var assembly = typeof(Migrations).Assembly;
        var scripts = new List<Script>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("Migrations/", StringComparison.Ordinal)))
        {
            var name = resource["Migrations/".Length..];
            var underscore = name.IndexOf('_');
            if (underscore <= 0 || !int.TryParse(name[..underscore], out var version))
            {
                throw new InvalidOperationException($"Migration {name} is not named NNNN_name.sql");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var text = new StreamReader(stream);
            var sql = text.ReadToEnd();
            var checksum = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sql)));
            scripts.Add(new Script(version, name, sql, checksum));
        }

        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        return scripts;
    }
}
