using System.Data;
using ActorImages.Messages;
using Npgsql;

namespace ActorImages.Catalog;

/// <summary>
/// The tracker state in PostgreSQL (docs/design.md, "Tracker"; docs/protocols.md, P3): peers with their password
/// hashes, holdings, registration times and sequences, and a version. The tracker singleton is its only writer:
/// it commits each batch here before it answers <c>OK</c>, so a hand-over or a crash loses no acknowledged write,
/// and a new singleton starts from <see cref="LoadAsync"/>.
/// </summary>
public sealed class TrackerStore
{
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>A store over <paramref name="dataSource"/>, whose schema <see cref="Migrations"/> has applied.</summary>
    /// <param name="dataSource">The database.</param>
    public TrackerStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>The tracker state's version: it grows with every committed batch (one row, one index lookup).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The version <see cref="LoadAsync"/> would return now.</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<long> VersionAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand("SELECT version FROM tracker_state WHERE id = 1");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Reads the whole tracker state from one snapshot.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The version and every registration, in sequence order.</returns>
    /// <exception cref="NpgsqlException">The database failed.</exception>
    public async Task<TrackerSnapshot> LoadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT version FROM tracker_state WHERE id = 1"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT ip, port, salt, hash, registered_at, sequence FROM peers ORDER BY sequence"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT ip, port, md5, name FROM peer_images ORDER BY ip, port, position"));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var version = reader.GetInt64(0);

        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<(string Ip, int Port, string Salt, string Hash, DateTimeOffset At, long Sequence)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add((reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt64(5)));
        }

        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var images = new Dictionary<(string, int), List<PeerImage>>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var key = (reader.GetString(0), reader.GetInt32(1));
            if (!images.TryGetValue(key, out var list))
            {
                images[key] = list = [];
            }

            list.Add(new PeerImage(reader.GetString(2), reader.GetString(3)));
        }

        var peers = rows.Select(r => new StoredPeer(
            new PeerRegistration(r.Ip, r.Port, images.GetValueOrDefault((r.Ip, r.Port)) ?? [], r.At, r.Sequence),
            r.Salt, r.Hash)).ToList();
        return new TrackerSnapshot(version, peers);
    }

    /// <summary>
    /// Commits a batch of changes in ONE transaction, in order, and bumps the version once. Sequences of the
    /// batch's registrations follow each other and exceed every earlier one, even one whose peer has left.
    /// </summary>
    /// <param name="writes">The changes, applied in order (a later write of an identity sees the earlier one).</param>
    /// <param name="cancellationToken">Cancels before the commit; a cancelled batch is not committed.</param>
    /// <returns>The new version and the sequence of each registration. An empty batch changes nothing and
    /// returns the current version.</returns>
    /// <exception cref="NpgsqlException">The database failed; nothing of the batch was committed.</exception>
    public async Task<TrackerCommit> ApplyAsync(IReadOnlyList<TrackerWrite> writes, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var registers = writes.Count(w => w is TrackerWrite.Register);
        batch.BatchCommands.Add(writes.Count == 0
            ? CatalogWrites.Command("SELECT version, sequence FROM tracker_state WHERE id = 1")
            : CatalogWrites.Command(
                "UPDATE tracker_state SET version = version + 1, sequence = sequence + $1 WHERE id = 1 RETURNING version, sequence",
                (long)registers));
        var k = 0;
        foreach (var write in writes)
        {
            switch (write)
            {
                case TrackerWrite.Register r:
                    // The k-th registration of the batch gets (sequence before the batch) + k + 1.
                    batch.BatchCommands.Add(CatalogWrites.Command("DELETE FROM peers WHERE ip = $1 AND port = $2", r.Ip, r.Port));
                    batch.BatchCommands.Add(CatalogWrites.Command("""
                        INSERT INTO peers (ip, port, salt, hash, registered_at, sequence)
                        SELECT $1, $2, $3, $4, $5, sequence - $6 FROM tracker_state WHERE id = 1
                        """, r.Ip, r.Port, r.Salt, r.Hash, r.At.ToUniversalTime(), (long)(registers - 1 - k)));
                    batch.BatchCommands.Add(InsertImages(r.Ip, r.Port, r.Images));
                    k++;
                    break;
                case TrackerWrite.Update u:
                    batch.BatchCommands.Add(CatalogWrites.Command("DELETE FROM peer_images WHERE ip = $1 AND port = $2", u.Ip, u.Port));
                    batch.BatchCommands.Add(InsertImages(u.Ip, u.Port, u.Images));
                    break;
                case TrackerWrite.Remove d:
                    batch.BatchCommands.Add(CatalogWrites.Command("DELETE FROM peers WHERE ip = $1 AND port = $2", d.Ip, d.Port));
                    break;
                default:
                    throw new ArgumentException($"Unknown tracker write {write.GetType().Name}", nameof(writes));
            }
        }

        long version, last;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            (version, last) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        var sequences = new long?[writes.Count];
        var next = last - registers + 1;
        for (var i = 0; i < writes.Count; i++)
        {
            sequences[i] = writes[i] is TrackerWrite.Register ? next++ : null;
        }

        return new TrackerCommit(version, sequences);
    }

    private static NpgsqlBatchCommand InsertImages(string ip, int port, IReadOnlyList<PeerImage> images) =>
        CatalogWrites.Command("""
            INSERT INTO peer_images (ip, port, position, md5, name)
            SELECT $1, $2, t.ord - 1, t.md5, t.name FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS t(md5, name, ord)
            WHERE EXISTS (SELECT 1 FROM peers WHERE ip = $1 AND port = $2)
            """, ip, port, images.Select(i => i.Md5).ToArray(), images.Select(i => i.Name).ToArray());
}
