using System.Diagnostics;
using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Cluster;
using ActorImages.Node.Config;
using ActorImages.Node.Transfer;
using ActorImages.Storage;

namespace ActorImages.Node.Repair;

/// <summary>What one repair pass did.</summary>
/// <param name="Pages">Catalog pages examined (<c>repair-page-size</c> entries each).</param>
/// <param name="UnderReplicated">Entries with fewer live copies than wanted.</param>
/// <param name="Mine">Of those, the ones this node had to copy (it is their first live holder).</param>
/// <param name="Copied">Copies made.</param>
/// <param name="Failed">Copies that failed (the next pass tries again).</param>
/// <param name="Lost">Entries with no live copy at all: nothing to copy from.</param>
/// <param name="Elapsed">Time the pass took.</param>
/// <param name="Interrupted">Whether it stopped early (a new pass, this node's leave, a full stop).</param>
public sealed record RepairPassResult(long Pages, long UnderReplicated, long Mine, long Copied, long Failed, long Lost,
    TimeSpan Elapsed, bool Interrupted);

/// <summary>What a leave did with this node's copies.</summary>
/// <param name="Held">Entries this node held a copy of.</param>
/// <param name="Moved">Entries whose replica set no longer names this node: their copies are on the nodes that stay.</param>
/// <param name="Copies">Copies made to other nodes.</param>
/// <param name="Failed">Copies that failed; those entries keep this node, and the others repair them after it left.</param>
/// <param name="Elapsed">Time it took.</param>
/// <param name="Complete">False when the deadline cut it short.</param>
public sealed record EvacuationResult(long Held, long Moved, long Copies, long Failed, TimeSpan Elapsed, bool Complete);

/// <summary>
/// The copying behind self-repair and graceful leave (docs/design.md, "Membership and failure"). Every node runs the
/// same rules over the same catalog and the same membership, so no coordination is needed:
/// <list type="bullet">
/// <item>Repair: an image with fewer copies on Up members than <c>replication-factor</c> is copied by its first live
/// holder in rendezvous order (<see cref="Membership.Rank"/>) — exactly one node — to the best-ranked Up members that
/// lack it, the same nodes <see cref="Ingest.Ingestion"/> would choose now; then the replica set becomes the live
/// holders plus the new ones.</item>
/// <item>Leave: every image this node holds is copied to the node that should take its place when this node is gone
/// (rank over the Up members without it), and this node drops out of the replica set.</item>
/// </list>
/// Copies go over HTTP from the local file (<see cref="ReplicaTransfer.PushAsync"/>); the target checks the SHA-256,
/// so a corrupt local copy is refused rather than spread. Thread-safe; state lives in the catalog.
/// </summary>
public sealed class ReplicaRepair
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(10);

    /// <summary>An incremental pass starts this many ids below the newest id of the last complete pass: ids are
    /// taken at insert, so an entry whose transaction was still open then may have a lower id than that newest one
    /// (a transaction holds at most <c>catalog-batch-size</c> entries per node).</summary>
    private const long IdMargin = 10_000;

    /// <summary>Every this many incremental passes, a full one (a replica set changed other than by a membership
    /// change: a repair or scrub on another node that failed half-way).</summary>
    private const int FullEvery = 10;

    private readonly object _gate = new();
    private string? _settledUp;
    private long _settledNewest;
    private int _incrementalPasses;
    private readonly NodeSettings _settings;
    private readonly CatalogStore _catalog;
    private readonly BlobStore _blobs;
    private readonly Membership _membership;
    private readonly ReplicaTransfer _transfer;
    private readonly NodeMetrics _metrics;
    private readonly ILogger<ReplicaRepair> _log;

    /// <summary>Creates the service.</summary>
    /// <param name="settings">Node settings (factor, parallelism, page size).</param>
    /// <param name="catalog">The catalog.</param>
    /// <param name="blobs">This node's blob store: the source of every copy it makes.</param>
    /// <param name="membership">The membership view (the same one placement reads).</param>
    /// <param name="transfer">Pushes copies to other nodes.</param>
    /// <param name="metrics">Counts copies by reason and outcome.</param>
    /// <param name="log">Log.</param>
    public ReplicaRepair(NodeSettings settings, CatalogStore catalog, BlobStore blobs, Membership membership,
        ReplicaTransfer transfer, NodeMetrics metrics, ILogger<ReplicaRepair> log)
    {
        _settings = settings;
        _catalog = catalog;
        _blobs = blobs;
        _membership = membership;
        _transfer = transfer;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>
    /// One pass over the catalog in bounded pages (<see cref="CatalogStore.UnderReplicatedAsync"/>): copies every
    /// under-replicated image this node is responsible for, at most <c>repair-parallelism</c> at a time. A pass is
    /// incremental — only entries added since the last pass, less a margin — when the last pass completed with no
    /// failed copy over the same Up members: nothing older can have become under-replicated without a membership
    /// change. Otherwise, and every tenth pass, it reads the whole catalog (at a million entries, ~2,000 queries).
    /// </summary>
    /// <param name="ct">Cancelled when the pass must give way (a new pass, this node's leave).</param>
    /// <returns>What it did; <see cref="RepairPassResult.Interrupted"/> when cancelled.</returns>
    /// <exception cref="Npgsql.NpgsqlException">The catalog failed; the next pass tries again.</exception>
    public async Task<RepairPassResult> RunPassAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var view = _membership.Current;
        var upAddresses = view.UpReachable.Select(m => m.Address).ToList();
        long pages = 0, under = 0, mine = 0, copied = 0, failed = 0, lost = 0;
        var lostSamples = new List<string>();
        var nextProgress = ProgressEvery;
        var upKey = string.Join(' ', upAddresses.Order(StringComparer.Ordinal));
        var newest = (await _catalog.NewestAsync(1, null, ct)).FirstOrDefault()?.Id ?? 0;
        long after = 0;
        bool incremental;
        lock (_gate)
        {
            incremental = _settledUp == upKey && _incrementalPasses < FullEvery;
            if (incremental) after = Math.Max(0, _settledNewest - IdMargin);
        }
        try
        {
            while (true)
            {
                long queried = Stopwatch.GetTimestamp();
                var page = await _catalog.UnderReplicatedAsync(upAddresses, _settings.ReplicationFactor, after,
                    _settings.RepairPageSize, ct);
                var queryTime = Stopwatch.GetElapsedTime(queried);
                pages++;
                var wanted = Math.Min(_settings.ReplicationFactor, upAddresses.Count);
                var todo = new List<CatalogEntry>();
                foreach (var entry in page.Entries)
                {
                    var live = entry.Replicas.Where(r => upAddresses.Contains(r.Address)).ToList();
                    if (live.Count >= wanted) continue; // fewer Up members than the factor: as many copies as can be
                    under++;
                    if (live.Count == 0)
                    {
                        lost++;
                        if (lostSamples.Count < 5) lostSamples.Add($"{entry.Md5} ({entry.Path})");
                        continue;
                    }
                    if (FirstLiveHolder(entry, view.UpReachable) == view.Self) todo.Add(entry);
                }
                mine += todo.Count;
                var records = new List<(CatalogEntry Entry, Func<Replica, bool> Keep, IReadOnlyList<Replica> Gained)>();
                try
                {
                    await Parallel.ForEachAsync(todo, new ParallelOptions
                    {
                        MaxDegreeOfParallelism = _settings.RepairParallelism, CancellationToken = ct,
                    }, async (entry, token) =>
                    {
                        var (ok, bad, record) = await RepairOneAsync(entry, token);
                        Interlocked.Add(ref copied, ok);
                        Interlocked.Add(ref failed, bad);
                        if (record is { } r) lock (records) records.Add(r);
                    });
                }
                finally
                {
                    // The page's new holders in one transaction: one WAL flush for the page, not one per image; also
                    // when the pass gives way half-way, so the copies it made are not left unlisted.
                    await RecordAsync(records, CancellationToken.None);
                }
                if (page.NextAfterId is not { } cursor) break;
                after = cursor;
                if (_settings.RepairScanRest > 0) await Task.Delay(queryTime * _settings.RepairScanRest, ct);
                if (clock.Elapsed >= nextProgress)
                {
                    nextProgress = clock.Elapsed + ProgressEvery;
                    _log.LogInformation("Repair pass: up to id {After}, {Under} under-replicated, {Copied} copies made, {Failed} failed so far",
                        after, under, copied, failed);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Done(true);
        }
        return Done(false);

        RepairPassResult Done(bool interrupted)
        {
            if (lost > 0)
                _log.LogError("Repair: {Lost} images have no copy on an Up member, nothing to copy from: {Samples}",
                    lost, string.Join(", ", lostSamples));
            var result = new RepairPassResult(pages, under, mine, copied, failed, lost, clock.Elapsed, interrupted);
            lock (_gate)
            {
                var settled = !interrupted && failed == 0;
                _settledUp = settled ? upKey : null;
                _settledNewest = newest;
                _incrementalPasses = settled && incremental ? _incrementalPasses + 1 : 0;
            }
            _log.LogDebug("Repair pass ({Kind}) read {Pages} pages in {Ms} ms", incremental ? "incremental" : "full", pages,
                (long)clock.Elapsed.TotalMilliseconds);
            if (under > 0 || interrupted)
                _log.LogInformation("Repair pass {State}: {Under} images below {Factor} copies, {Mine} for this node; " +
                                    "{Copied} copies made, {Failed} failed, in {Ms} ms",
                    interrupted ? "interrupted" : "done", under, _settings.ReplicationFactor, mine, copied, failed,
                    (long)clock.Elapsed.TotalMilliseconds);
            return result;
        }
    }

    /// <summary>Copies one image to the best-ranked Up members that lack it; the membership is read again, since a
    /// long pass outlives the view it started with. Returns what to record: the copies it made and which of the
    /// entry's replicas to keep (those on Up members).</summary>
    private async Task<(int Copied, int Failed, (CatalogEntry, Func<Replica, bool>, IReadOnlyList<Replica>)? Record)> RepairOneAsync(
        CatalogEntry entry, CancellationToken ct)
    {
        var view = _membership.Current;
        var candidates = view.UpReachable;
        var upAddresses = candidates.Select(m => m.Address).ToHashSet();
        var live = entry.Replicas.Where(r => upAddresses.Contains(r.Address)).ToList();
        var wanted = Math.Min(_settings.ReplicationFactor, candidates.Count);
        if (live.Count >= wanted || FirstLiveHolder(entry, candidates) != view.Self) return (0, 0, null);
        var holding = live.Select(r => r.Address).ToHashSet();
        var targets = Membership.Rank(entry.Md5, candidates).Where(m => !holding.Contains(m.Address))
            .Take(wanted - live.Count).ToList();
        var gained = await CopyAsync(entry, targets, "repair", ct);
        return (gained.Count, targets.Count - gained.Count,
            gained.Count > 0 ? (entry, r => upAddresses.Contains(r.Address), gained) : null);
    }

    /// <summary>
    /// Moves this node's copies away before it leaves: pages through the entries it holds and, for each, copies it
    /// to the members that should hold it without this node, then drops this node from its replica set. Runs
    /// while this node is still Up, so no other node repairs the same images at the same time.
    /// </summary>
    /// <param name="ct">The leave's deadline.</param>
    /// <returns>What it moved; <see cref="EvacuationResult.Complete"/> is false when the deadline cut it short.</returns>
    /// <exception cref="Npgsql.NpgsqlException">The catalog failed.</exception>
    public async Task<EvacuationResult> EvacuateAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var view = _membership.Current;
        var others = view.UpReachable.Where(m => m.Address != view.Self).ToList();
        long held = 0, moved = 0, copies = 0, failed = 0;
        if (others.Count == 0)
        {
            _log.LogWarning("Leaving: no other Up member to move images to; they stay on this node's disk");
            return new EvacuationResult(0, 0, 0, 0, clock.Elapsed, true);
        }
        var otherAddresses = others.Select(m => m.Address).ToHashSet();
        var wanted = Math.Min(_settings.ReplicationFactor, others.Count);
        _log.LogInformation("Leaving: moving this node's images to the remaining {Count} nodes", others.Count);
        long after = 0;
        try
        {
            while (true)
            {
                var page = await _catalog.EntriesHeldByAsync(view.Self, after, _settings.RepairPageSize, ct);
                if (page.Count == 0) break;
                after = page[^1].Id;
                held += page.Count;
                await Parallel.ForEachAsync(page, new ParallelOptions
                {
                    MaxDegreeOfParallelism = _settings.RepairParallelism, CancellationToken = ct,
                }, async (entry, token) =>
                {
                    var elsewhere = entry.Replicas.Where(r => otherAddresses.Contains(r.Address)).ToList();
                    var holding = elsewhere.Select(r => r.Address).ToHashSet();
                    var targets = Membership.Rank(entry.Md5, others).Where(m => !holding.Contains(m.Address))
                        .Take(Math.Max(0, wanted - elsewhere.Count)).ToList();
                    var gained = await CopyAsync(entry, targets, "leave", token);
                    Interlocked.Add(ref copies, gained.Count);
                    Interlocked.Add(ref failed, targets.Count - gained.Count);
                    // All copies made: this node's copy is no longer needed in the set. A failed copy keeps this node
                    // listed, which is true (the file stays on its disk); the others repair it once it has left.
                    var complete = gained.Count == targets.Count;
                    if (gained.Count == 0 && !complete) return;
                    await RecordAsync(entry, r => otherAddresses.Contains(r.Address) || (!complete && r.Address == view.Self),
                        gained, token);
                    if (complete) Interlocked.Increment(ref moved);
                });
                if (page.Count < _settings.RepairPageSize) break;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return new EvacuationResult(held, moved, copies, failed, clock.Elapsed, false);
        }
        return new EvacuationResult(held, moved, copies, failed, clock.Elapsed, true);
    }

    /// <summary>The address of the first live holder of <paramref name="entry"/> in rendezvous order: the one node
    /// that repairs it.</summary>
    private static string? FirstLiveHolder(CatalogEntry entry, IReadOnlyList<MemberInfo> up)
    {
        var holders = entry.Replicas.Select(r => r.Address).ToHashSet();
        return Membership.Rank(entry.Md5, up.Where(m => holders.Contains(m.Address))).FirstOrDefault()?.Address;
    }

    /// <summary>Pushes this node's copy of <paramref name="entry"/> to each target; returns the replicas made.</summary>
    private async Task<IReadOnlyList<Replica>> CopyAsync(CatalogEntry entry, IReadOnlyList<MemberInfo> targets,
        string reason, CancellationToken ct)
    {
        if (targets.Count == 0) return [];
        var file = _blobs.Resolve(entry.Path);
        var gained = new List<Replica>();
        await Task.WhenAll(targets.Select(async target =>
        {
            try
            {
                await _transfer.PushAsync(target.Host, entry.Path, file, entry.Size, entry.Sha256, ct);
                _metrics.Copy(reason, "ok");
                lock (gained) gained.Add(new Replica(target.Address, target.Host));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _metrics.Copy(reason, "failed");
                // A refused copy with "sha256 mismatch" means this node's own file is bad: the scrub restores it.
                _log.LogWarning("{Reason}: copy of {Md5} ({Path}) to {Target} failed: {Error}", reason, entry.Md5,
                    entry.Path, target.Host, e.Message);
            }
        }));
        return gained;
    }

    /// <summary>
    /// Sets the replica set to the replicas of the entry as the catalog has it NOW that <paramref name="keep"/> keeps,
    /// plus <paramref name="gained"/>: read just before the write, so a change another node made since the page was
    /// read is not undone.
    /// </summary>
    private Task RecordAsync(CatalogEntry entry, Func<Replica, bool> keep, IReadOnlyList<Replica> gained,
        CancellationToken ct) => RecordAsync([(entry, keep, gained)], ct);

    /// <summary>As the one-entry <see cref="RecordAsync(CatalogEntry, Func{Replica, bool}, IReadOnlyList{Replica}, CancellationToken)"/>
    /// for many entries: read again in one query, written in one transaction.</summary>
    private async Task RecordAsync(IReadOnlyList<(CatalogEntry Entry, Func<Replica, bool> Keep, IReadOnlyList<Replica> Gained)> records,
        CancellationToken ct)
    {
        if (records.Count == 0) return;
        var fresh = (await _catalog.EntriesByPathsAsync(records.Select(r => r.Entry.Path).ToList(), ct)).ToDictionary(e => e.Id);
        var changes = records.Select(r =>
        {
            var gainedAddresses = r.Gained.Select(g => g.Address).ToHashSet();
            var now = fresh.GetValueOrDefault(r.Entry.Id) ?? r.Entry;
            IReadOnlyList<Replica> replicas = now.Replicas.Where(x => r.Keep(x) && !gainedAddresses.Contains(x.Address)).Concat(r.Gained).ToList();
            return (r.Entry.Id, replicas);
        }).ToList();
        await _catalog.SetReplicasAsync(changes, ct);
    }
}
