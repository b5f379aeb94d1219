using System.Diagnostics;
using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Cluster;
using Akka.Actor;
using Akka.Event;

namespace ActorImages.Node.Repair;

/// <summary>
/// The background scrub (docs/design.md, "Membership and failure"): every <c>scrub-pace</c> it checks one of this
/// node's copies with <see cref="Scrubber"/> — first any copy a reader found bad (<see cref="ScrubRequests"/>), else
/// the next of the entries the catalog lists this node for, in id order (<see cref="CatalogStore.EntriesHeldByAsync"/>,
/// one page at a time), starting over at the end. Beside it, the orphan sweep (<see cref="OrphanSweep"/>) examines
/// one page of this node's files per tick, and after a pass over the data directory rests for half of
/// <c>orphan-grace</c>, so an orphan goes at most half a grace period (plus one pass) after it has aged past it.
/// One check and one sweep page at a time: a tick that finds the last one still running skips it, so a slow disk or
/// a large image slows the scrub rather than piling work up.
/// </summary>
public sealed class ScrubActor : ReceiveActor, IWithTimers
{
    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Loaded(IReadOnlyList<CatalogEntry>? Entries, Exception? Error);

    private sealed record Checked(string What, ScrubOutcome? Outcome, Exception? Error);

    private sealed record Swept(SweepPage? Page, Exception? Error);

    /// <summary>Entries read per catalog query.</summary>
    private const int PageSize = 200;

    /// <summary>Pause after a cycle over no entries, or a failed query: no busy loop on an empty node.</summary>
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(10);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Scrubber _scrubber;
    private readonly CatalogStore _catalog;
    private readonly Membership _membership;
    private readonly ScrubRequests _requests;
    private readonly OrphanSweep _sweep;
    private readonly TimeSpan _pace;
    private readonly TimeSpan _orphanGrace;
    private readonly Queue<CatalogEntry> _todo = new();
    private readonly CancellationTokenSource _stopping = new();
    private long _after;
    private bool _busy;
    private DateTime _restUntil = DateTime.MinValue;
    private bool _sweeping;
    private DateTime _sweepRestUntil = DateTime.MinValue;
    private int _orphansRemoved;
    private long _checked, _restored, _failed;
    private readonly Stopwatch _cycle = Stopwatch.StartNew();

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Creates the actor.</summary>
    /// <param name="scrubber">Checks and restores one copy.</param>
    /// <param name="catalog">The catalog, for the entries this node holds.</param>
    /// <param name="membership">This node's address.</param>
    /// <param name="requests">Copies readers found bad, checked first.</param>
    /// <param name="sweep">The orphan sweep.</param>
    /// <param name="pace">Time between two checks (and two sweep pages).</param>
    /// <param name="orphanGrace">The orphan sweep's grace; half of it is the rest between two passes.</param>
    public ScrubActor(Scrubber scrubber, CatalogStore catalog, Membership membership, ScrubRequests requests,
        OrphanSweep sweep, TimeSpan pace, TimeSpan orphanGrace)
    {
        _scrubber = scrubber;
        _catalog = catalog;
        _membership = membership;
        _requests = requests;
        _sweep = sweep;
        _pace = pace;
        _orphanGrace = orphanGrace;
        Receive<Tick>(_ => OnTick());
        Receive<Loaded>(OnLoaded);
        Receive<Checked>(OnChecked);
        Receive<Swept>(OnSwept);
    }

    /// <summary>Props of the actor.</summary>
    /// <param name="scrubber">Checks and restores one copy.</param>
    /// <param name="catalog">The catalog.</param>
    /// <param name="membership">The membership view.</param>
    /// <param name="requests">Copies readers found bad.</param>
    /// <param name="sweep">The orphan sweep.</param>
    /// <param name="pace">Time between two checks (positive).</param>
    /// <param name="orphanGrace">The orphan sweep's grace (positive); half of it is the rest between two passes.</param>
    /// <returns>The props.</returns>
    public static Props Props(Scrubber scrubber, CatalogStore catalog, Membership membership, ScrubRequests requests,
        OrphanSweep sweep, TimeSpan pace, TimeSpan orphanGrace) =>
        Akka.Actor.Props.Create(() => new ScrubActor(scrubber, catalog, membership, requests, sweep, pace, orphanGrace));

    /// <inheritdoc />
    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, _pace);

    /// <inheritdoc />
    protected override void PostStop()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private void OnTick()
    {
        if (!_sweeping && DateTime.UtcNow >= _sweepRestUntil)
        {
            _sweeping = true;
            _sweep.NextPageAsync(_stopping.Token).PipeTo(Self, success: p => new Swept(p, null), failure: e => new Swept(null, e));
        }
        if (_busy) return;
        if (_requests.TryTake(out var reported))
        {
            _busy = true;
            _scrubber.CheckPathAsync(reported, _stopping.Token).PipeTo(Self,
                success: o => new Checked(reported, o ?? ScrubOutcome.Sound, null), failure: e => new Checked(reported, null, e));
            return;
        }
        if (DateTime.UtcNow < _restUntil) return;
        _busy = true;
        if (_todo.TryDequeue(out var entry))
        {
            _scrubber.CheckAsync(entry, _stopping.Token).PipeTo(Self,
                success: o => new Checked($"{entry.Md5} ({entry.Path})", o, null), failure: e => new Checked($"{entry.Md5} ({entry.Path})", null, e));
            return;
        }
        _catalog.EntriesHeldByAsync(_membership.Current.Self, _after, PageSize, _stopping.Token).PipeTo(Self,
            success: page => new Loaded(page, null), failure: e => new Loaded(null, e));
    }

    private void OnLoaded(Loaded loaded)
    {
        _busy = false;
        if (loaded.Entries is null)
        {
            _log.Warning("Scrub: reading this node's entries failed: {0}", loaded.Error?.Message);
            _restUntil = DateTime.UtcNow + Idle;
            return;
        }
        foreach (var entry in loaded.Entries) _todo.Enqueue(entry);
        if (loaded.Entries.Count > 0)
        {
            _after = loaded.Entries[^1].Id;
            return;
        }
        // End of the catalog: one cycle over this node's copies is done; the next starts from the first entry.
        if (_restored + _failed > 0)
            _log.Info("Scrub cycle: {0} copies checked, {1} restored, {2} not restored, in {3:0} s",
                _checked, _restored, _failed, _cycle.Elapsed.TotalSeconds);
        if (_checked == 0) _restUntil = DateTime.UtcNow + Idle;
        _after = 0;
        _checked = _restored = _failed = 0;
        _cycle.Restart();
    }

    private void OnChecked(Checked c)
    {
        _busy = false;
        _checked++;
        if (c.Outcome == ScrubOutcome.Restored) _restored++;
        else if (c.Outcome != ScrubOutcome.Sound) _failed++;
        if (c.Error is not null) _log.Warning("Scrub: checking {0} failed: {1}", c.What, c.Error.Message);
    }

    private void OnSwept(Swept s)
    {
        _sweeping = false;
        if (s.Page is null)
        {
            _log.Warning("Orphan sweep failed: {0}", s.Error?.Message);
            _sweepRestUntil = DateTime.UtcNow + Idle;
            return;
        }
        _orphansRemoved += s.Page.Removed;
        if (s.Page.CatalogFailed) _sweepRestUntil = DateTime.UtcNow + Idle;
        if (!s.Page.PassDone) return;
        if (_orphansRemoved > 0) _log.Info("Orphan sweep pass: {0} files removed", _orphansRemoved);
        _orphansRemoved = 0;
        _sweepRestUntil = DateTime.UtcNow + _orphanGrace / 2;
    }
}
