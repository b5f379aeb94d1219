using ActorImages.Catalog;
using ActorImages.Node.Catalog;
using ActorImages.Node.Cluster;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using static ActorImages.Node.Tracker.TrackerProtocol;

namespace ActorImages.Node.Tracker;

/// <summary>
/// Keeps this node's <see cref="LstView"/> current: loads the committed tracker state and the newest catalog entries
/// from PostgreSQL at start, then applies every <see cref="TrackerChange"/> of the <c>tracker</c> topic, every entry
/// of the <see cref="ImageFeed"/> and every membership change. Pub-sub delivers at most once, so every
/// <c>catch-up-interval</c> it reads the tracker's version and reloads the state when the view is behind it (the
/// "within one second" of docs/design.md), and it reloads the tracker state every 10 s whatever the version says (a
/// lost change older than one it did apply leaves the versions equal). The catalog head is read once, after the feed
/// is primed (<see cref="ImageFeed.Primed"/>): from then on the feed delivers every entry.
/// </summary>
public sealed class TrackerViewActor : ReceiveActor, IWithTimers
{
    private sealed record Reload : INoSerializationVerificationNeeded;
    private sealed record Check : INoSerializationVerificationNeeded;
    private sealed record Checked(long Version) : INoSerializationVerificationNeeded;
    private sealed record Reloaded(TrackerSnapshot? State, IReadOnlyList<ActorImages.Messages.CatalogEntry>? Head, Exception? Error) : INoSerializationVerificationNeeded;

    private static readonly TimeSpan ReloadInterval = TimeSpan.FromSeconds(10);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LstView _view;
    private readonly TrackerStore _tracker;
    private readonly CatalogStore _catalog;
    private readonly ImageFeed _feed;
    private readonly TimeSpan _catchUpInterval;
    private bool _headLoaded;
    private bool _loading;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Creates the actor.</summary>
    /// <param name="view">The view to keep current.</param>
    /// <param name="tracker">The tracker tables.</param>
    /// <param name="catalog">The catalog.</param>
    /// <param name="feed">The node-local feed of committed entries.</param>
    /// <param name="membership">The membership holder.</param>
    /// <param name="catchUpInterval">How often the tracker's version is compared with the view's.</param>
    public TrackerViewActor(LstView view, TrackerStore tracker, CatalogStore catalog, ImageFeed feed, Membership membership,
        TimeSpan catchUpInterval)
    {
        _view = view;
        _tracker = tracker;
        _catalog = catalog;
        _feed = feed;
        _catchUpInterval = catchUpInterval;
        feed.OnEntry(view.AddImage);
        membership.Changed += view.SetMembership;
        view.SetMembership(membership.Current);
        Receive<TrackerChange>(view.Apply);
        Receive<SubscribeAck>(_ => { });
        Receive<Reload>(_ =>
        {
            if (!_loading) StartReload(withHead: !_headLoaded);
        });
        Receive<Check>(_ =>
        {
            if (!_loading) _tracker.VersionAsync().PipeTo(Self, success: v => new Checked(v), failure: _ => new Checked(-1));
        });
        Receive<Checked>(c =>
        {
            if (c.Version > _view.Version && !_loading) StartReload(withHead: !_headLoaded);
        });
        Receive<Reloaded>(r =>
        {
            _loading = false;
            if (r.Error is not null)
            {
                _log.Warning("LST view: reloading from the catalog failed: {0}", r.Error.Message);
                return;
            }
            _view.Reload(r.State!);
            if (r.Head is not null) _view.ReloadHead(r.Head);
            _headLoaded |= r.Head is not null;
        });
    }

    /// <summary>Props of the actor.</summary>
    /// <param name="view">The view.</param>
    /// <param name="tracker">The tracker tables.</param>
    /// <param name="catalog">The catalog.</param>
    /// <param name="feed">The feed.</param>
    /// <param name="membership">The membership.</param>
    /// <param name="catchUpInterval">How often the tracker's version is compared with the view's
    /// (<c>catch-up-interval</c>).</param>
    /// <returns>The props.</returns>
    public static Props Props(LstView view, TrackerStore tracker, CatalogStore catalog, ImageFeed feed, Membership membership,
        TimeSpan catchUpInterval) =>
        Akka.Actor.Props.Create(() => new TrackerViewActor(view, tracker, catalog, feed, membership, catchUpInterval));

    /// <inheritdoc />
    protected override void PreStart()
    {
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(Topic, Self));
        StartReload(withHead: true);
        Timers.StartPeriodicTimer("reload", new Reload(), ReloadInterval);
        Timers.StartPeriodicTimer("check", new Check(), _catchUpInterval);
    }

    private void StartReload(bool withHead)
    {
        _loading = true;
        LoadAsync(withHead).PipeTo(Self, failure: e => new Reloaded(null, null, e));
    }

    private async Task<Reloaded> LoadAsync(bool withHead)
    {
        var state = await _tracker.LoadAsync(CancellationToken.None);
        IReadOnlyList<ActorImages.Messages.CatalogEntry>? head = null;
        if (withHead)
        {
            await _feed.Primed.WaitAsync(TimeSpan.FromSeconds(30));
            head = await _catalog.NewestAsync(LstView.HeadSize, null, CancellationToken.None);
        }
        return new Reloaded(state, head, null);
    }
}
