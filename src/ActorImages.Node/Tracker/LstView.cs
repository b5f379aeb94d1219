using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Node.Cluster;
using ActorImages.Protocols;
using static ActorImages.Node.Tracker.TrackerProtocol;

namespace ActorImages.Node.Tracker;

/// <summary>
/// This node's read view of the tracker, from which every <c>LST</c> is answered without an actor round trip
/// (docs/design.md: writes go through the singleton, reads do not). It holds the peers' registrations, the newest
/// catalog entries and the membership, composes the listing in the order of docs/protocols.md, P3 — first what
/// legacy peers registered, the most recently registered first; then the cluster's own images, newest first; holders
/// that are up first, a node's P4 endpoint before a legacy peer — and renders the first datagram once per change.
/// Thread-safe: writers take a lock for their change only; a reader takes the rendered listing without one, and when a
/// change made it stale, copies what the listing is made of under the lock and composes and renders it outside, so
/// that a writer — the P3 gateway applying a write's answer before it replies — never waits for a composition
/// (docs/benchmarks.md, "2026-12-07 (04:20)": 13 % of a node's working samples under the P3 mix were writers waiting
/// for the lock while the <c>p3-udp</c> thread composed). A composition is kept only if no change came while it ran,
/// so a read that starts after a change returns shows it.
/// </summary>
public sealed class LstView
{
    /// <summary>Catalog entries kept for the first datagram; far more than 4,096 bytes can list.</summary>
    public const int HeadSize = 256;

    /// <summary>More items than one 4,096-byte <c>LST</c> datagram can hold: an item takes at least 45 bytes (md5 32,
    /// two commas, a name of at least one character, a holder of at least 9 as in <c>1.2.3.4:5</c>, and the <c>;</c>),
    /// so at most 91 fit (docs/protocols.md, P3). A page read from the catalog asks for this many rows.</summary>
    private const int ItemsPerDatagram = 96;

    private readonly object _gate = new();
    private readonly int _p4Port;
    private readonly Dictionary<string, (long Version, PeerRegistration? Registration)> _peers = new();
    private readonly List<CatalogEntry> _head = new();
    /// <summary>The head's entries by md5 (one each), kept in step with <see cref="_head"/>, so that adding an entry
    /// needs no scan of the head.</summary>
    private readonly Dictionary<string, CatalogEntry> _headByMd5 = new();
    /// <summary>The addresses of the members that are up and reachable, from the last membership view.</summary>
    private HashSet<string> _up = [];
    /// <summary>The composed listing, or null after a change.</summary>
    private volatile Composed? _composed;
    /// <summary>The head as the last composition used it, made again only after the head or the membership changed, not
    /// after every peer's registration (a REG moves its peer to the front: composing the head's items and index again
    /// after each one was 11 % of a node's CPU in the P3 bench).</summary>
    private HeadParts? _headParts;
    /// <summary>The hosts of <see cref="_up"/>: a catalog page names holders by host.</summary>
    private HashSet<string> _upHosts = [];
    private long _version;
    /// <summary>Changes that made the listing stale, and those of them that changed the head or the
    /// membership.</summary>
    private long _changes, _headChanges;

    /// <summary>A composed listing with what a catalog page after it needs.</summary>
    /// <param name="Listing">The rendered listing.</param>
    /// <param name="Skipped">The md5s that the catalog's pages leave out: the head's, which include every peer's md5
    /// listed with its nodes (at most <see cref="HeadSize"/>).</param>
    /// <param name="UpHosts">The hosts of the members up when it was composed.</param>
    private sealed record Composed(P3Listing Listing, HashSet<string> Skipped, HashSet<string> UpHosts);

    /// <summary>What a listing is made of, copied under the lock (references to the parts no writer changes — a
    /// registration, an entry, the membership's sets, which a new view replaces, the head's parts — and copies of the
    /// others) and composed outside it.</summary>
    /// <param name="Registrations">The registered peers, in no order.</param>
    /// <param name="Head">The head's parts when they are current, else null and <paramref name="HeadCopy"/>.</param>
    /// <param name="HeadCopy">A copy of the head, newest first, when <paramref name="Head"/> is null.</param>
    /// <param name="Up">The addresses of the members up.</param>
    /// <param name="UpHosts">Their hosts.</param>
    /// <param name="Changes">The view's change count when copied.</param>
    /// <param name="HeadChanges">Its count of head and membership changes when copied.</param>
    private sealed record Parts(PeerRegistration[] Registrations, HeadParts? Head, CatalogEntry[]? HeadCopy,
        HashSet<string> Up, HashSet<string> UpHosts, long Changes, long HeadChanges);

    /// <summary>The head made ready for compositions.</summary>
    /// <param name="ByMd5">The head's entries by md5.</param>
    /// <param name="Items">Its items, newest first (<see cref="ToItem"/>).</param>
    /// <param name="Md5s">Its md5s: those the catalog's pages leave out.</param>
    /// <param name="At">The count of head and membership changes it was made at.</param>
    private sealed record HeadParts(Dictionary<string, CatalogEntry> ByMd5, List<LstItem> Items, HashSet<string> Md5s,
        long At);

    /// <summary>Creates an empty view.</summary>
    /// <param name="p4Port">The P4 port every node serves <c>GET</c> on (listed as <c>host:port</c>).</param>
    public LstView(int p4Port) => _p4Port = p4Port;

    /// <summary>The highest tracker version applied.</summary>
    public long Version
    {
        get { lock (_gate) return _version; }
    }

    /// <summary>The registered peers, most recently registered first (for <c>/api/tracker/peers</c>).</summary>
    public IReadOnlyList<PeerRegistration> Peers
    {
        get
        {
            lock (_gate)
                return _peers.Values.Where(p => p.Registration is not null).Select(p => p.Registration!)
                    .OrderByDescending(r => r.Sequence).ToList();
        }
    }

    /// <summary>Applies one committed change unless this view already has a newer state of that identity.</summary>
    /// <param name="change">The change from the singleton's answer or the <c>tracker</c> topic.</param>
    public void Apply(TrackerChange change)
    {
        lock (_gate)
        {
            var present = _peers.TryGetValue(change.Identity, out var known);
            if (present && known.Version > change.Version) return;
            _peers[change.Identity] = (change.Version, change.Registration);
            _version = Math.Max(_version, change.Version);
            // An UPD that repeats what the peer holds (legacy clients send one whenever they look again) leaves the
            // listing as it is: composing it again costs every LST after it (1.5 % of a node's CPU in the P3 bench).
            if (!present || !SameListing(known.Registration, change.Registration)) Invalidate();
        }
    }

    /// <summary>Replaces the peers with the committed state read from PostgreSQL, keeping changes newer than it.</summary>
    /// <param name="state">The tracker state.</param>
    public void Reload(TrackerSnapshot state)
    {
        lock (_gate)
        {
            var newer = _peers.Where(p => p.Value.Version > state.Version).ToList();
            _peers.Clear();
            foreach (var p in state.Peers) _peers[p.Registration.Identity] = (state.Version, p.Registration);
            foreach (var (identity, value) in newer) _peers[identity] = value;
            _version = Math.Max(_version, state.Version);
            Invalidate();
        }
    }

    /// <summary>Replaces the catalog head with the newest entries read from PostgreSQL.</summary>
    /// <param name="newestFirst">The newest entries, newest first.</param>
    public void ReloadHead(IEnumerable<CatalogEntry> newestFirst)
    {
        lock (_gate)
        {
            var known = _head.ToList();
            _head.Clear();
            _headByMd5.Clear();
            foreach (var e in newestFirst.Concat(known).OrderByDescending(e => e.Id)) AddToHead(e);
            InvalidateHead();
        }
    }

    /// <summary>Adds a committed catalog entry (from this node's Registry or the <c>images</c> topic).</summary>
    /// <param name="entry">The entry.</param>
    public void AddImage(CatalogEntry entry)
    {
        lock (_gate)
        {
            if (AddToHead(entry)) InvalidateHead();
        }
    }

    /// <summary>Takes a new membership view: holders that are up are listed first.</summary>
    /// <param name="membership">The view.</param>
    public void SetMembership(MembershipSnapshot membership)
    {
        lock (_gate)
        {
            _up = membership.UpReachable.Select(m => m.Address).ToHashSet();
            _upHosts = membership.UpReachable.Select(m => m.Host).ToHashSet();
            InvalidateHead();
        }
    }

    /// <summary>The plain <c>LST</c> reply: at most 4,096 bytes, rendered once per change.</summary>
    /// <returns>The datagram; callers must not change it.</returns>
    public ReadOnlyMemory<byte> First() => Listing().Listing.First.Datagram;

    private Composed Listing()
    {
        if (_composed is { } composed) return composed;
        Parts parts;
        lock (_gate)
        {
            if (_composed is { } cached) return cached;
            var head = _headParts is { } h && h.At == _headChanges ? h : null;
            parts = new Parts([.. _peers.Values.Where(p => p.Registration is not null).Select(p => p.Registration!)],
                head, head is null ? [.. _head] : null, _up, _upHosts, _changes, _headChanges);
        }
        var (fresh, headParts) = Compose(parts);
        lock (_gate)
        {
            // Kept only if nothing changed meanwhile: a change after the copy would otherwise be hidden from the reads
            // that follow it. This read itself started before that change and may answer without it.
            if (_changes == parts.Changes) _composed = fresh;
            if (_headChanges == parts.HeadChanges) _headParts = headParts;
        }
        return fresh;
    }

    /// <summary>The <c>LST &lt;offset&gt;</c> reply: whole items from the item <paramref name="offset"/> on; past the
    /// newest entries this view keeps, the catalog is read from PostgreSQL.</summary>
    /// <param name="offset">Item offset, zero-based.</param>
    /// <param name="catalog">The catalog, for items past the head.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>The datagram.</returns>
    public async Task<ReadOnlyMemory<byte>> PageAsync(int offset, CatalogStore catalog, CancellationToken ct)
    {
        var (listing, skipped, upHosts) = Listing();
        if (offset + ItemsPerDatagram <= listing.Count) return listing.Page(offset).Datagram;
        // The page may run past what this view composed (the peers' items and the newest catalog entries): the rest
        // is the catalog's other images, newest first by each md5's first commit, leaving out every md5 listed above,
        // so that a client walking the pages sees each item once (docs/protocols.md, P3, LST <offset>).
        IReadOnlyList<Md5Listing> page;
        try
        {
            page = await catalog.DistinctMd5PageAsync(Math.Max(0, offset - listing.Count), ItemsPerDatagram, ct, skipped);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException && offset < listing.Count)
        {
            // The catalog is away: what this view composed is still answered, from memory, as before it was asked.
            return listing.Page(offset).Datagram;
        }
        var rest = page.Select(m => new LstItem(m.Md5, SafeName(m.Filename),
            m.Hosts.OrderBy(h => upHosts.Contains(h) ? 0 : 1).Select(h => $"{h}:{_p4Port}").ToList()));
        return P3Reply.List([.. listing.Items.Skip(offset), .. rest], 0).Datagram;
    }

    /// <summary>Puts an entry in the head; false when the head already had it or something newer for its md5.</summary>
    private bool AddToHead(CatalogEntry entry)
    {
        // One item per md5, placed by its newest entry; the index spares a new md5 (nearly every image) a scan.
        if (_headByMd5.TryGetValue(entry.Md5, out var existing))
        {
            if (existing.Id >= entry.Id) return false;
            _head.RemoveAt(_head.FindIndex(e => e.Md5 == entry.Md5));
            _headByMd5.Remove(entry.Md5);
        }
        // Newest first, and a new entry is nearly always the newest: the scan usually stops at the first element.
        var at = _head.FindIndex(e => e.Id < entry.Id);
        if (at < 0 && _head.Count >= HeadSize) return false; // older than everything a full head keeps
        _head.Insert(at < 0 ? _head.Count : at, entry);
        _headByMd5[entry.Md5] = entry;
        if (_head.Count <= HeadSize) return true;
        _headByMd5.Remove(_head[^1].Md5);
        _head.RemoveAt(_head.Count - 1);
        return true;
    }

    private void Invalidate()
    {
        _changes++;
        _composed = null;
    }

    /// <summary>Whether two states of one identity list the same items in the same place: the same registration
    /// (its sequence orders the listing) holding the same images under the same names, in the same order.</summary>
    private static bool SameListing(PeerRegistration? a, PeerRegistration? b) =>
        a is null ? b is null : b is not null && a.Sequence == b.Sequence && a.Images.SequenceEqual(b.Images);

    /// <summary>The catalog head or the membership changed: its items are composed again, not only the listing.</summary>
    private void InvalidateHead()
    {
        _headChanges++;
        Invalidate();
    }

    /// <summary>Composes and renders a listing from <paramref name="parts"/>, outside the lock; also returns the head's
    /// parts, for the next composition to reuse while the head and the membership stay as they are.</summary>
    private (Composed Composed, HeadParts Head) Compose(Parts parts)
    {
        var up = parts.Up;
        var head = parts.Head ?? MakeHead(parts.HeadCopy!, up, parts.HeadChanges);
        var registrations = parts.Registrations.OrderBy(r => r.Sequence).ToList();
        // md5 → peers holding it, first registered first; the name registered first is the one listed.
        var holders = new Dictionary<string, List<(PeerRegistration Peer, string Name)>>();
        foreach (var r in registrations)
            foreach (var image in r.Images)
            {
                if (!holders.TryGetValue(image.Md5, out var list)) holders[image.Md5] = list = new();
                if (list.All(h => h.Peer != r)) list.Add((r, image.Name));
            }
        var items = new List<LstItem>();
        var listed = new HashSet<string>();
        foreach (var r in registrations.AsEnumerable().Reverse())
            foreach (var image in r.Images)
            {
                if (!listed.Add(image.Md5)) continue;
                // Nodes that are up, then the peers (registered, so taken as up), then nodes that are down
                // (docs/protocols.md, P3): the seed-002 client tries only the first holder.
                var replicas = head.ByMd5.TryGetValue(image.Md5, out var entry) ? entry.Replicas : [];
                var peers = holders[image.Md5].Select(h => $"{h.Peer.Ip}:{h.Peer.Port}");
                items.Add(new LstItem(image.Md5, holders[image.Md5][0].Name,
                    [.. Endpoints(replicas.Where(r => up.Contains(r.Address))), .. peers,
                     .. Endpoints(replicas.Where(r => !up.Contains(r.Address)))]));
            }
        foreach (var item in head.Items)
            if (listed.Add(item.Md5)) items.Add(item);
        // The catalog's pages leave out the head's md5s: a peer's md5 the head has is listed above with the nodes
        // holding it; one older than the head is listed again among the catalog's pages, with its nodes (this view
        // does not know them), so that no holder goes unlisted.
        return (new Composed(new P3Listing(items), head.Md5s, parts.UpHosts), head);
    }

    /// <summary>Indexes and composes the items of a copy of the head (newest first, one entry per md5).</summary>
    private HeadParts MakeHead(CatalogEntry[] head, HashSet<string> up, long at)
    {
        var byMd5 = new Dictionary<string, CatalogEntry>(head.Length, StringComparer.Ordinal);
        foreach (var entry in head) byMd5.TryAdd(entry.Md5, entry); // one per md5 (AddToHead)
        return new HeadParts(byMd5, head.Select(e => ToItem(e, up)).ToList(), [.. byMd5.Keys], at);
    }

    private LstItem ToItem(CatalogEntry entry, HashSet<string> up) =>
        new(entry.Md5, SafeName(entry.Filename), NodeHolders(entry, up).ToList());

    /// <summary>A catalog name as LST lists it: the seed-002 client saves a download under the listed name, so path
    /// separators and control characters — which a P2 or HTTP client may have put in a name — become '_'.</summary>
    /// <param name="name">The catalog filename.</param>
    /// <returns>The name to list.</returns>
    public static string SafeName(string name) =>
        string.Create(name.Length, name, static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++)
                chars[i] = source[i] is '/' or '\\' || char.IsControl(source[i]) ? '_' : source[i];
        });

    private IEnumerable<string> NodeHolders(CatalogEntry entry, HashSet<string> up) =>
        Endpoints(entry.Replicas.OrderBy(r => up.Contains(r.Address) ? 0 : 1));

    private IEnumerable<string> Endpoints(IEnumerable<Replica> replicas) => replicas.Select(r => $"{r.Host}:{_p4Port}");
}
