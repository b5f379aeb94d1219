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
/// Thread-safe: writers take a lock, readers of the rendered datagram do not.
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
    /// <summary>The head's entries by md5 (one each), kept in step with <see cref="_head"/>. Like <see cref="_up"/>, it is
    /// kept as changes come, not rebuilt in <see cref="ComposeLocked"/>: a REG moves its peer to the front, and
    /// composing again after each one spent most of its time rebuilding both (perf of a node in the P3 bench: 11 % of
    /// its CPU in that method).</summary>
    private readonly Dictionary<string, CatalogEntry> _headByMd5 = new();
    /// <summary>The addresses of the members that are up and reachable, from the last membership view.</summary>
    private HashSet<string> _up = [];
    private volatile P3Listing? _listing;
    private List<LstItem>? _headItems;
    /// <summary>The md5s of the composed listing that the catalog's pages leave out: the head's, which include every
    /// peer's md5 listed with its nodes (at most <see cref="HeadSize"/>).</summary>
    private HashSet<string>? _skippedMd5s;
    /// <summary>The hosts of <see cref="_up"/>: a catalog page names holders by host.</summary>
    private HashSet<string> _upHosts = [];
    private long _version;

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
    public ReadOnlyMemory<byte> First() => Listing().First.Datagram;

    private P3Listing Listing()
    {
        var listing = _listing;
        if (listing is not null) return listing;
        lock (_gate) return ComposeLocked();
    }

    /// <summary>The <c>LST &lt;offset&gt;</c> reply: whole items from the item <paramref name="offset"/> on; past the
    /// newest entries this view keeps, the catalog is read from PostgreSQL.</summary>
    /// <param name="offset">Item offset, zero-based.</param>
    /// <param name="catalog">The catalog, for items past the head.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>The datagram.</returns>
    public async Task<ReadOnlyMemory<byte>> PageAsync(int offset, CatalogStore catalog, CancellationToken ct)
    {
        P3Listing listing;
        HashSet<string> skipped, upHosts;
        lock (_gate)
        {
            listing = ComposeLocked();
            if (offset + ItemsPerDatagram <= listing.Count) return listing.Page(offset).Datagram;
            skipped = _skippedMd5s!;
            upHosts = _upHosts;
        }
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

    private void Invalidate() => _listing = null;

    /// <summary>Whether two states of one identity list the same items in the same place: the same registration
    /// (its sequence orders the listing) holding the same images under the same names, in the same order.</summary>
    private static bool SameListing(PeerRegistration? a, PeerRegistration? b) =>
        a is null ? b is null : b is not null && a.Sequence == b.Sequence && a.Images.SequenceEqual(b.Images);

    /// <summary>The catalog head or the membership changed: its items are composed again, not only the listing.</summary>
    private void InvalidateHead()
    {
        _headItems = null;
        _listing = null;
    }

    private P3Listing ComposeLocked()
    {
        if (_listing is { } cached) return cached;
        var registrations = _peers.Values.Where(p => p.Registration is not null).Select(p => p.Registration!)
            .OrderBy(r => r.Sequence).ToList();
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
                var replicas = _headByMd5.TryGetValue(image.Md5, out var entry) ? entry.Replicas : [];
                var peers = holders[image.Md5].Select(h => $"{h.Peer.Ip}:{h.Peer.Port}");
                items.Add(new LstItem(image.Md5, holders[image.Md5][0].Name,
                    [.. Endpoints(replicas.Where(r => _up.Contains(r.Address))), .. peers,
                     .. Endpoints(replicas.Where(r => !_up.Contains(r.Address)))]));
            }
        // The head's items change with the head and the membership only, not with every peer's registration.
        _headItems ??= _head.Select(ToItem).ToList();
        foreach (var item in _headItems)
            if (listed.Add(item.Md5)) items.Add(item);
        // The catalog's pages leave out the head's md5s: a peer's md5 the head has is listed above with the nodes
        // holding it; one older than the head is listed again among the catalog's pages, with its nodes (this view
        // does not know them), so that no holder goes unlisted. A copy: the head changes under the gate, the page
        // query reads the set outside it.
        _skippedMd5s = [.. _headByMd5.Keys];
        return _listing = new P3Listing(items);
    }

    private LstItem ToItem(CatalogEntry entry) => new(entry.Md5, SafeName(entry.Filename), NodeHolders(entry).ToList());

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

    private IEnumerable<string> NodeHolders(CatalogEntry entry) =>
        Endpoints(entry.Replicas.OrderBy(r => _up.Contains(r.Address) ? 0 : 1));

    private IEnumerable<string> Endpoints(IEnumerable<Replica> replicas) => replicas.Select(r => $"{r.Host}:{_p4Port}");
}
