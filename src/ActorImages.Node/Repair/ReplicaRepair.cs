using System.Data.Common;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
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
/// <param name="Mine">Of those, the ones whose copies fell to this node (it pushes them as their first live holder or
/// fetches them as their one missing holder).</param>
/// <param name="Copied">Copies made.</param>
/// <param name="Failed">Copies that failed (the next pass tries again).</param>
/// <param name="Lost">Entries with no live copy at all: nothing to copy from.</param>
/// <param name="Surplus">Entries with more copies than wanted, every one on an Up member, while every Up member runs
/// this node's factor (<see cref="MembershipSnapshot.AllRunFactor"/>).</param>
/// <param name="Trimmed">Of those, the ones this node trimmed as their first live holder: the catalog now lists only
/// their best-ranked sound copies.</param>
/// <param name="Elapsed">Time the pass took.</param>
/// <param name="Interrupted">Whether it stopped early (a new pass, this node's leave, a full stop).</param>
public sealed record RepairPassResult(long Pages, long UnderReplicated, long Mine, long Copied, long Failed, long Lost,
    long Surplus, long Trimmed, TimeSpan Elapsed, bool Interrupted);

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
/// <item>Repair: an image with fewer copies on Up members than <c>replication-factor</c> gets copies on the
/// best-ranked Up members that lack it (<see cref="Membership.Rank"/>), the same nodes <see cref="Ingest.Ingestion"/>
/// would choose now; exactly one node makes them: its first live holder in rendezvous order pushes them, or, for half
/// of the images when one copy is missing, the target fetches it (<see cref="Assign"/>). Then the replica set
/// becomes the live holders plus the new ones.</item>
/// <item>Trim: an image listed on more Up members than wanted, with no replica on a member that is not Up (the orphan
/// sweep made this node a holder of what may have been the last sound copy, or the factor was lowered), keeps the
/// best-ranked holders whose copies are confirmed sound, as many as wanted; its first live holder drops the others
/// from the replica set, and their files go with their node's orphan sweep, which deletes a copy only once the
/// listed holders confirm theirs. Only while every Up member runs this node's factor
/// (<see cref="MembershipSnapshot.AllRunFactor"/>).</item>
/// <item>Leave: every image this node holds is copied to the node that should take its place when this node is gone
/// (rank over the Up members without it), and this node drops out of the replica set.</item>
/// </list>
/// Copies go over HTTP, pushed from the local file (<see cref="ReplicaTransfer.PushAsync"/>) or fetched from a holder
/// (<see cref="ReplicaFetcher"/>); the receiving node checks the SHA-256 against the catalog, so a corrupt copy is
/// refused rather than spread. Thread-safe; state lives in the catalog.
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

    /// <summary>Time from the start of a leave's evacuation to its last look at the catalog: room for the catalog
    /// commits of uploads whose copies reached this node just before its web server stopped (a batch takes 2–10 ms
    /// under load, docs/benchmarks.md).</summary>
    private static readonly TimeSpan FinalLookDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long the copies a pass made gather before they are recorded in one transaction.</summary>
    private static readonly TimeSpan RecordEvery = TimeSpan.FromMilliseconds(250);

    private readonly object _gate = new();
    private string? _settledUp;
    private long _settledNewest;
    private int _incrementalPasses;
    private readonly NodeSettings _settings;
    private readonly CatalogStore _catalog;
    private readonly BlobStore _blobs;
    private readonly Membership _membership;
    private readonly ReplicaTransfer _transfer;
    private readonly ReplicaFetcher _fetcher;
    private readonly NodeMetrics _metrics;
    private readonly ILogger<ReplicaRepair> _log;

    /// <summary>Creates the service.</summary>
    /// <param name="settings">Node settings (factor, parallelism, page size).</param>
    /// <param name="catalog">The catalog.</param>
    /// <param name="blobs">This node's blob store: the source of every copy it makes.</param>
    /// <param name="membership">The membership view (the same one placement reads).</param>
    /// <param name="transfer">Pushes copies to other nodes.</param>
    /// <param name="fetcher">Fetches copies from other nodes.</param>
    /// <param name="metrics">Counts copies by reason and outcome.</param>
    /// <param name="log">Log.</param>
    public ReplicaRepair(NodeSettings settings, CatalogStore catalog, BlobStore blobs, Membership membership,
        ReplicaTransfer transfer, ReplicaFetcher fetcher, NodeMetrics metrics, ILogger<ReplicaRepair> log)
    {
        _settings = settings;
        _catalog = catalog;
        _blobs = blobs;
        _membership = membership;
        _transfer = transfer;
        _fetcher = fetcher;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>
    /// One pass over the catalog in bounded pages (<see cref="CatalogStore.OffFactorAsync"/>): makes every copy of an
    /// under-replicated image that falls to this node (<see cref="Assign"/>), and trims the surplus of the
    /// over-replicated ones it is the first live holder of, at most <c>repair-parallelism</c> at a time. The pass is a
    /// pipeline, so the copies never wait for the catalog: one task reads the pages and queues this node's entries (at
    /// most a page ahead), the copies take them from the queue, and one task writes the new holders, what the copies
    /// made in the last <see cref="RecordEvery"/> in one transaction. A pass is incremental — only entries added since
    /// the last pass, less a margin — when the last pass completed with no failed copy over the same Up members:
    /// nothing older can have become under-replicated without a membership change (a surplus the orphan sweep made on
    /// an older entry waits for a full pass). Otherwise, and every tenth pass, it reads the whole catalog (at a million
    /// entries, ~2,000 queries).
    /// </summary>
    /// <param name="ct">Cancelled when the pass must give way (a new pass, this node's leave).</param>
    /// <returns>What it did; <see cref="RepairPassResult.Interrupted"/> when cancelled.</returns>
    /// <exception cref="Npgsql.NpgsqlException">The catalog failed; the next pass tries again. Copies made before
    /// that are recorded when the catalog lets them be, else the next pass finds them on the targets and lists them.</exception>
    public async Task<RepairPassResult> RunPassAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var view = _membership.Current;
        var up = view.UpReachable;
        var upAddresses = up.Select(m => m.Address).ToList();
        long pages = 0, under = 0, mine = 0, copied = 0, failed = 0, lost = 0, surplus = 0, trimmed = 0;
        var mayTrim = view.AllRunFactor(_settings.ReplicationFactor);
        int? mostCopies = mayTrim && up.Count > 0 ? Membership.CopiesWanted(_settings.ReplicationFactor, up.Count) : null;
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
        var queue = Channel.CreateBounded<CatalogEntry>(new BoundedChannelOptions(_settings.RepairPageSize)
        {
            SingleWriter = true,
        });
        var made = Channel.CreateUnbounded<Record>(new UnboundedChannelOptions { SingleReader = true });
        // A part that fails stops the others: the scan must not wait on a queue no copy reads any more.
        using var pass = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var scanning = StopsPassOnFault(ScanAsync);
        var copying = StopsPassOnFault(CopyAllAsync);
        var recording = StopsPassOnFault(RecordAllAsync);
        // The parts' outcomes are told apart below; the recorder is awaited also when the pass gives way half-way,
        // so the copies it made are not left unlisted.
        await Task.WhenAll(scanning, copying).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        made.Writer.TryComplete();
        await recording.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] parts = [scanning, copying, recording];
        var errors = parts.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).ToList();
        if (errors.FirstOrDefault(e => e is not OperationCanceledException) is { } error)
            ExceptionDispatchInfo.Throw(error);
        if (ct.IsCancellationRequested) return Done(true);
        if (parts.Any(t => !t.IsCompletedSuccessfully))
            throw new InvalidOperationException("repair pass stopped without a cause", errors.FirstOrDefault());
        return Done(false);

        async Task StopsPassOnFault(Func<CancellationToken, Task> part)
        {
            try
            {
                await part(pass.Token);
            }
            catch
            {
                pass.Cancel();
                throw;
            }
        }

        async Task ScanAsync(CancellationToken token)
        {
            try
            {
                while (true)
                {
                    long queried = Stopwatch.GetTimestamp();
                    var page = await _catalog.OffFactorAsync(upAddresses, _settings.ReplicationFactor, mostCopies, after,
                        _settings.RepairPageSize, token);
                    var queryTime = Stopwatch.GetElapsedTime(queried);
                    pages++;
                    foreach (var entry in page.Entries)
                    {
                        var assignment = Assign(entry, up, view.Self, mayTrim);
                        if (assignment.Surplus)
                        {
                            surplus++;
                            if (assignment.Side == Side.Trim) await queue.Writer.WriteAsync(entry, token);
                            continue;
                        }
                        if (assignment.Live.Count >= assignment.Wanted) continue; // fewer Up members than the factor: as many copies as can be
                        under++;
                        if (assignment.Live.Count == 0)
                        {
                            lost++;
                            if (lostSamples.Count < 5) lostSamples.Add($"{entry.Md5} ({entry.Path})");
                            continue;
                        }
                        if (assignment.Side == Side.None) continue;
                        mine++;
                        await queue.Writer.WriteAsync(entry, token);
                    }
                    if (page.NextAfterId is not { } cursor) break;
                    after = cursor;
                    if (_settings.RepairScanRest > 0) await Task.Delay(queryTime * _settings.RepairScanRest, token);
                    if (clock.Elapsed >= nextProgress)
                    {
                        nextProgress = clock.Elapsed + ProgressEvery;
                        _log.LogInformation("Repair pass: up to id {After}, {Under} under-replicated, {Copied} copies made, {Failed} failed, " +
                                            "{Surplus} with more copies than wanted, {Trimmed} trimmed so far",
                            after, under, Interlocked.Read(ref copied), Interlocked.Read(ref failed), surplus,
                            Interlocked.Read(ref trimmed));
                    }
                }
            }
            finally
            {
                queue.Writer.TryComplete();
            }
        }

        Task CopyAllAsync(CancellationToken token) =>
            Parallel.ForEachAsync(queue.Reader.ReadAllAsync(token), new ParallelOptions
            {
                MaxDegreeOfParallelism = _settings.RepairParallelism, CancellationToken = token,
            }, async (entry, t) =>
            {
                var (ok, bad, trim, record) = await RepairOneAsync(entry, t);
                Interlocked.Add(ref copied, ok);
                Interlocked.Add(ref failed, bad);
                Interlocked.Add(ref trimmed, trim);
                if (record is { } r) made.Writer.TryWrite(r);
            });

        // The new holders in batches: one transaction and one WAL flush for what the copies made in the last
        // RecordEvery, not one per image. Not cancelled with the pass: a copy made is listed.
        async Task RecordAllAsync(CancellationToken _)
        {
            var batch = new List<Record>();
            while (await made.Reader.WaitToReadAsync(CancellationToken.None))
            {
                await Task.WhenAny(Task.Delay(RecordEvery, CancellationToken.None), copying);
                while (batch.Count < _settings.RepairPageSize && made.Reader.TryRead(out var record)) batch.Add(record);
                await RecordAsync(batch, CancellationToken.None);
                batch.Clear();
            }
        }

        RepairPassResult Done(bool interrupted)
        {
            if (lost > 0)
                _log.LogError("Repair: {Lost} images have no copy on an Up member, nothing to copy from: {Samples}",
                    lost, string.Join(", ", lostSamples));
            var result = new RepairPassResult(pages, under, mine, copied, failed, lost, surplus, trimmed, clock.Elapsed,
                interrupted);
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
            if (surplus > 0)
                _log.LogInformation("Repair pass: {Surplus} images with more copies than wanted, {Trimmed} trimmed by this node",
                    surplus, trimmed);
            return result;
        }
    }

    /// <summary>Which side makes the copies an entry lacks (<see cref="Assign"/>).</summary>
    private enum Side
    {
        /// <summary>Another node: this one has nothing to do for the entry.</summary>
        None,
        /// <summary>This node, the entry's first live holder, pushes its copy to the targets.</summary>
        Push,
        /// <summary>This node, the entry's one target, fetches a copy from a live holder.</summary>
        Pull,
        /// <summary>This node, the first live holder of an entry with a surplus of copies, drops the surplus from its
        /// replica set.</summary>
        Trim,
    }

    /// <summary>An entry's copies as one membership view sees them.</summary>
    /// <param name="Live">The entry's holders that are Up, in rendezvous order.</param>
    /// <param name="Wanted">Copies it should have: the factor, or the Up members when fewer.</param>
    /// <param name="Targets">The best-ranked Up members that lack it, as many as copies are missing: the nodes
    /// <see cref="Ingest.Ingestion"/> would choose now.</param>
    /// <param name="Side">What this node does.</param>
    /// <param name="Surplus">More live copies than wanted and none on a member that is not Up, while trimming is
    /// allowed: the first live holder trims it.</param>
    private readonly record struct Assignment(IReadOnlyList<MemberInfo> Live, int Wanted, IReadOnlyList<MemberInfo> Targets,
        Side Side, bool Surplus = false);

    /// <summary>A copy made, to be recorded: the entry, which of its replicas to keep, the replicas gained.</summary>
    private readonly record struct Record(CatalogEntry Entry, Func<Replica, bool> Keep, IReadOnlyList<Replica> Gained);

    /// <summary>
    /// Who makes the copies <paramref name="entry"/> lacks — exactly one node, by the same rule on every node, so no
    /// coordination is needed. When exactly one copy is missing (the usual case after a node is lost or added), the
    /// work is split by the image: for half of the images (the last character of the MD5 has an odd code, 8 of the 16
    /// hex digits) the target fetches a copy, for the other half the first live holder pushes one. Otherwise the
    /// first live holder pushes to every target. Without the split, repair after a loss runs at the speed of one node
    /// when one survivor holds most of the lost node's partners: at 20:22 one survivor pushed 57,709 copies for 71.5 s
    /// while the other finished its 15,521 in 34 s and idled (docs/benchmarks.md); with it, each node of a pair
    /// makes half of the pair's copies whichever way they go.
    /// </summary>
    private Assignment Assign(CatalogEntry entry, IReadOnlyList<MemberInfo> up, string self, bool mayTrim)
    {
        var holders = entry.Replicas.Select(r => r.Address).ToHashSet();
        var live = Membership.Rank(entry.Md5, up.Where(m => holders.Contains(m.Address))).ToList();
        var wanted = Membership.CopiesWanted(_settings.ReplicationFactor, up.Count);
        // A replica on a member not Up may be one of the copies to keep once it is back: no surplus while one is down.
        if (mayTrim && live.Count > wanted && live.Count == holders.Count)
            return new Assignment(live, wanted, [], live[0].Address == self ? Side.Trim : Side.None, Surplus: true);
        if (live.Count == 0 || live.Count >= wanted) return new Assignment(live, wanted, [], Side.None);
        var targets = Membership.Rank(entry.Md5, up).Where(m => !holders.Contains(m.Address)).Take(wanted - live.Count).ToList();
        var side = targets.Count == 1 && entry.Md5.Length > 0 && (entry.Md5[^1] & 1) == 1
            ? targets[0].Address == self ? Side.Pull : Side.None
            : live[0].Address == self ? Side.Push : Side.None;
        return new Assignment(live, wanted, targets, side);
    }

    /// <summary>Makes the copies of one image that fall to this node, or trims its surplus; the membership is read
    /// again, since a long pass outlives the view it started with. Returns what to record: the copies it made and which
    /// of the entry's replicas to keep (those on Up members).</summary>
    private async Task<(int Copied, int Failed, int Trimmed, Record? Record)> RepairOneAsync(CatalogEntry entry, CancellationToken ct)
    {
        var view = _membership.Current;
        var up = view.UpReachable;
        var assignment = Assign(entry, up, view.Self, view.AllRunFactor(_settings.ReplicationFactor));
        // The pass gave this entry to this node under its view, so nothing to do now means the view changed meanwhile
        // (a holder unreachable, a member gone or come): counted as failed, so that the pass is not taken as settled
        // and the next one reads the whole catalog again rather than only the newest entries (docs/design.md).
        if (assignment.Side == Side.None) return (0, 1, 0, null);
        // A surplus left as it is fails nothing: it is found again by the next full pass.
        if (assignment.Side == Side.Trim) return (0, 0, await TrimAsync(entry, assignment, ct) ? 1 : 0, null);
        var gained = assignment.Side == Side.Push
            ? await CopyAsync(entry, assignment.Targets, "repair", ct)
            : await PullAsync(entry, assignment.Live, assignment.Targets[0], ct);
        var upAddresses = up.Select(m => m.Address).ToHashSet();
        return (gained.Count, assignment.Targets.Count - gained.Count, 0,
            gained.Count > 0 ? new Record(entry, r => upAddresses.Contains(r.Address), gained) : null);
    }

    /// <summary>
    /// Trims the surplus of <paramref name="entry"/> (this node is its first live holder): asks its live holders in
    /// rendezvous order whether their copies are sound — this node's own file hashed here, the others' by
    /// <see cref="ReplicaTransfer.ConfirmAsync"/> — until <see cref="Assignment.Wanted"/> have said yes, then sets the
    /// replica set to those, unless it changed since the page was read. Fewer sound copies than wanted trims nothing:
    /// the holders' scrub restores theirs first.
    /// </summary>
    /// <returns>Whether the replica set was trimmed.</returns>
    /// <exception cref="System.Data.Common.DbException">The catalog failed (the pass stops; the next one tries again).</exception>
    private async Task<bool> TrimAsync(CatalogEntry entry, Assignment assignment, CancellationToken ct)
    {
        var self = _membership.Current.Self;
        var keep = new HashSet<string>(StringComparer.Ordinal);
        foreach (var holder in assignment.Live)
        {
            if (keep.Count == assignment.Wanted) break;
            bool sound;
            try
            {
                sound = holder.Address == self
                    ? await _blobs.HoldsCopyAsync(entry.Path, entry.Sha256, ct) == true
                    : await _transfer.ConfirmAsync(holder.Host, entry.Path, entry.Size, entry.Sha256, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                sound = false;
            }
            if (sound) keep.Add(holder.Address);
        }
        if (keep.Count < assignment.Wanted)
        {
            _log.LogWarning("Repair: {Md5} ({Path}) has {Listed} copies, {Wanted} wanted, but only {Sound} confirmed sound; none is dropped",
                entry.Md5, entry.Path, entry.Replicas.Count, assignment.Wanted, keep.Count);
            return false;
        }
        var read = entry.Replicas.Select(r => r.Address).ToHashSet(StringComparer.Ordinal);
        var changed = await _catalog.ChangeReplicasAsync([entry.Id], now =>
            read.SetEquals(now.Replicas.Select(r => r.Address)) ? now.Replicas.Where(r => keep.Contains(r.Address)).ToList() : null, ct);
        if (changed == 0) return false;
        // One line per trimmed entry only at Debug: lowering the factor trims every entry of the catalog, which the
        // pass's progress and summary lines count.
        _log.LogDebug("Repair: {Md5} ({Path}) had {Listed} copies, {Wanted} wanted; the catalog lists {Kept} now, and the others' orphan sweep removes their files",
            entry.Md5, entry.Path, entry.Replicas.Count, assignment.Wanted,
            string.Join(", ", entry.Replicas.Where(r => keep.Contains(r.Address)).Select(r => r.Host)));
        return true;
    }

    /// <summary>Fetches a copy of <paramref name="entry"/> from its live holders, best first, into this node's store
    /// (<see cref="ReplicaFetcher"/>). A file already under its name counts when it is this image (a copy whose record
    /// was lost) and fails the copy otherwise, as a pushed copy would (<see cref="ReplicaEndpoints"/>).</summary>
    /// <returns>This node as a replica, or nothing when no holder gave a sound copy.</returns>
    private async Task<IReadOnlyList<Replica>> PullAsync(CatalogEntry entry, IReadOnlyList<MemberInfo> holders,
        MemberInfo self, CancellationToken ct)
    {
        IReadOnlyList<Replica> gained = [new Replica(self.Address, self.Host)];
        bool? held;
        try
        {
            held = await _blobs.HoldsCopyAsync(entry.Path, entry.Sha256, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            held = false;
        }
        if (held is { } same)
        {
            _metrics.Copy("repair", same ? "ok" : "failed");
            if (!same)
                _log.LogWarning("repair: cannot fetch {Md5} ({Path}): another or unreadable file has that path on this node",
                    entry.Md5, entry.Path);
            return same ? gained : [];
        }
        var source = await _fetcher.FetchAsync(entry, holders.Select(h => h.Host),
            (staged, token) => _blobs.CommitAsync(staged, entry.Path, token), "repair", ct);
        _metrics.Copy("repair", source is null ? "failed" : "ok");
        return source is null ? [] : gained;
    }

    /// <summary>
    /// Moves this node's copies away before it leaves: pages through the entries it holds and, for each, copies it
    /// to the members that should hold it without this node, then drops this node from its replica set. Runs
    /// while this node is still Up, so no other node repairs the same images at the same time. No new copy lands here
    /// meanwhile: the host has stopped Kestrel, and with it the replica endpoint, before the actor system's
    /// CoordinatedShutdown runs this (hosted services stop in reverse order of registration, and ASP.NET Core registers
    /// the web server's last), and the uploads this node's P1 listener still takes go to the other members once the
    /// leave has begun (<see cref="LeaveState"/>, marked by <see cref="GracefulLeave"/> before it asks for this). But a
    /// copy stored here just before belongs to an upload whose catalog commit may land after the first page was read,
    /// so <see cref="FinalLookDelay"/> after the start it looks once more at the entries committed after its last page
    /// (ids grow in commit order). An entry whose new replica set cannot be recorded is counted as failed and the others
    /// go on: its copies stay on the targets, where the survivors' repair finds and lists them.
    /// </summary>
    /// <param name="ct">The leave's deadline.</param>
    /// <returns>What it moved; <see cref="EvacuationResult.Complete"/> is false when the deadline cut it short.</returns>
    /// <exception cref="Npgsql.NpgsqlException">The catalog could not be paged.</exception>
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
        var wanted = Membership.CopiesWanted(_settings.ReplicationFactor, others.Count);
        _log.LogInformation("Leaving: moving this node's images to the remaining {Count} nodes", others.Count);
        long after = 0;
        try
        {
            await MovePagesAsync();
            if (FinalLookDelay - clock.Elapsed is { Ticks: > 0 } rest) await Task.Delay(rest, ct);
            await MovePagesAsync();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return new EvacuationResult(held, moved, copies, failed, clock.Elapsed, false);
        }
        return new EvacuationResult(held, moved, copies, failed, clock.Elapsed, true);

        // The entries listing this node after the id `after`, page by page.
        async Task MovePagesAsync()
        {
            while (true)
            {
                var page = await _catalog.EntriesHeldByAsync(view.Self, after, _settings.RepairPageSize, ct);
                if (page.Count == 0) return;
                after = page[^1].Id;
                held += page.Count;
                await Parallel.ForEachAsync(page, new ParallelOptions
                {
                    MaxDegreeOfParallelism = _settings.RepairParallelism, CancellationToken = ct,
                }, MoveOneAsync);
                if (page.Count < _settings.RepairPageSize) return;
            }
        }

        async ValueTask MoveOneAsync(CatalogEntry entry, CancellationToken token)
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
            try
            {
                await RecordAsync(entry, r => otherAddresses.Contains(r.Address) || (!complete && r.Address == view.Self),
                    gained, token);
            }
            catch (DbException e)
            {
                Interlocked.Increment(ref failed);
                _log.LogWarning("Leaving: the copies of {Md5} ({Path}) were made but could not be recorded ({Error}); the remaining nodes' repair lists them",
                    entry.Md5, entry.Path, e.Message);
                return;
            }
            if (complete) Interlocked.Increment(ref moved);
        }
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
    /// plus <paramref name="gained"/>: read under the entry's row lock in the write's transaction
    /// (<see cref="CatalogStore.ChangeReplicasAsync"/>), so a change another node made since the page was read, or
    /// makes meanwhile, is not undone.
    /// </summary>
    private Task RecordAsync(CatalogEntry entry, Func<Replica, bool> keep, IReadOnlyList<Replica> gained,
        CancellationToken ct) => RecordAsync([new Record(entry, keep, gained)], ct);

    /// <summary>As the one-entry <see cref="RecordAsync(CatalogEntry, Func{Replica, bool}, IReadOnlyList{Replica}, CancellationToken)"/>
    /// for many entries, in one transaction; records of one entry apply in their order.</summary>
    private async Task RecordAsync(IReadOnlyList<Record> records,
        CancellationToken ct)
    {
        if (records.Count == 0) return;
        var byId = records.ToLookup(r => r.Entry.Id);
        await _catalog.ChangeReplicasAsync(byId.Select(g => g.Key).ToList(), now =>
        {
            IReadOnlyList<Replica> replicas = now.Replicas;
            foreach (var r in byId[now.Id])
            {
                var gainedAddresses = r.Gained.Select(g => g.Address).ToHashSet();
                replicas = replicas.Where(x => r.Keep(x) && !gainedAddresses.Contains(x.Address)).Concat(r.Gained).ToList();
            }
            return replicas;
        }, ct);
    }
}
