using ActorImages.Catalog;
using ActorImages.Messages;
using ActorImages.Protocols;

namespace ActorImages.Node.Catalog;

/// <summary>
/// The P2 <c>LIST</c> reply, kept in memory: the newest uploads that fit the seed-001 client's 1 MiB message limit, in
/// upload order (docs/protocols.md, P2), rendered once per change. Its size is bounded by that limit whatever the
/// catalog's size, and a LIST costs no query. Filled from PostgreSQL at start, once the feed is primed, and from the
/// <see cref="ImageFeed"/> after (this node's commits before they are acknowledged, other nodes' within a second,
/// <see cref="FeedCatchUp"/> making up for what pub-sub lost), so nothing committed between the load and the feed is
/// missed.
/// </summary>
public sealed class UploadList
{
    private readonly object _gate = new();
    private readonly int _maxBytes;
    private readonly int _capacity;
    private readonly int _slack;
    private SortedList<long, P2ListedFile> _files = new();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile byte[]? _rendered;
    private readonly TimeSpan _loadWait;

    /// <summary>Creates an empty list.</summary>
    /// <param name="maxBytes">The reply's byte budget (<c>p2.list-max-bytes</c>).</param>
    /// <param name="loadWait">The longest a LIST waits for the first load from the catalog (default 5 s) before it is
    /// answered as unavailable: a node started while the database was away must not leave its LIST unanswered.</param>
    public UploadList(int maxBytes, TimeSpan? loadWait = null)
    {
        _maxBytes = maxBytes;
        _loadWait = loadWait ?? TimeSpan.FromSeconds(5);
        // A row is at least 30 bytes ({"filename":"","uploader":""}): more entries than this can never fit.
        _capacity = maxBytes / 30 + 1;
        // The oldest entries past the capacity are dropped in bulk, once this many have piled up: dropping one at a time
        // shifted the whole list (~35,000 entries at 1 MiB) on every new entry, 1.4 % of the nodes' CPU in the
        // three-node P1 window (docs/benchmarks.md).
        _slack = Math.Max(64, _capacity / 8);
    }

    /// <summary>How many entries of the newest are held: at most the capacity (<c>maxBytes / 30 + 1</c>, more than can
    /// ever fit) plus an eighth of it (the reply may list fewer: it must fit the budget).</summary>
    public int Count
    {
        get { lock (_gate) return _files.Count; }
    }

    /// <summary>Adds committed entries, newest or not.</summary>
    /// <param name="names">Entries with their ids.</param>
    public void Add(IEnumerable<UploadName> names)
    {
        lock (_gate)
        {
            foreach (var n in names) _files[n.Id] = new P2ListedFile(n.Filename, n.Uploader);
            if (_files.Count > _capacity + _slack)
            {
                var newest = new SortedList<long, P2ListedFile>(_capacity + _slack + 1);
                for (var i = _files.Count - _capacity; i < _files.Count; i++) newest.Add(_files.Keys[i], _files.Values[i]);
                _files = newest;
            }
            _rendered = null;
        }
    }

    /// <summary>Adds one committed entry.</summary>
    /// <param name="entry">The entry.</param>
    public void Add(CatalogEntry entry) => Add([new UploadName(entry.Id, entry.Filename, entry.Uploader)]);

    /// <summary>The LIST reply (one JSON text frame, UTF-8, at most <c>p2.list-max-bytes</c>), once the first load
    /// from the catalog is in. Rendered once per change and shared: callers must not modify it.</summary>
    /// <param name="ct">Cancellation of the wait.</param>
    /// <returns>The rendered reply's UTF-8 bytes.</returns>
    /// <exception cref="TimeoutException">The first load is not in after the load wait (the database has been away
    /// since the node started; the P2 gateway answers <c>Arquivo indisponivel no momento.</c>).</exception>
    public async Task<byte[]> ReplyAsync(CancellationToken ct)
    {
        await _loaded.Task.WaitAsync(_loadWait, ct);
        return Reply();
    }

    private byte[] Reply()
    {
        var rendered = _rendered;
        if (rendered is not null) return rendered;
        lock (_gate)
        {
            return _rendered ??= System.Text.Encoding.UTF8.GetBytes(P2Reply.ListWithin(_files.Values.ToList(), out _, _maxBytes));
        }
    }

    /// <summary>Loads the newest entries from the catalog (once, at start, after the feed is primed).</summary>
    /// <param name="catalog">The catalog.</param>
    /// <param name="ct">Cancellation.</param>
    /// <returns>A task that completes when they are in.</returns>
    public async Task LoadAsync(CatalogStore catalog, CancellationToken ct)
    {
        Add(await catalog.NewestNamesAsync(_capacity, ct));
        _loaded.TrySetResult();
    }
}

/// <summary>Fills the <see cref="UploadList"/>: every committed entry from the feed, and the whole window from the
/// catalog once the feed is primed (<see cref="ImageFeed.Primed"/>; retried every 2 s until the database answers).</summary>
public sealed class UploadListLoader : BackgroundService
{
    private readonly UploadList _list;
    private readonly ImageFeed _feed;
    private readonly CatalogStore _catalog;
    private readonly ILogger<UploadListLoader> _log;

    /// <summary>Creates the loader and subscribes the list to the feed.</summary>
    /// <param name="list">The list to fill.</param>
    /// <param name="feed">Committed entries.</param>
    /// <param name="catalog">The catalog.</param>
    /// <param name="log">Logger.</param>
    public UploadListLoader(UploadList list, ImageFeed feed, CatalogStore catalog, ILogger<UploadListLoader> log)
    {
        _list = list;
        _feed = feed;
        _catalog = catalog;
        _log = log;
        feed.OnEntry(list.Add);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _feed.Primed.WaitAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        do
        {
            try
            {
                await _list.LoadAsync(_catalog, stoppingToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogWarning("P2 LIST: reading the newest uploads failed: {Error}", e.Message);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
