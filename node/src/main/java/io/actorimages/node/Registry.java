package io.actorimages.node;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.ImageStored;
import io.actorimages.messages.PeerRegistration;
import io.actorimages.messages.Replica;
import io.actorimages.messages.SourceProtocol;
import io.actorimages.node.protocol.P3Reply.ListedImage;
import io.actorimages.storage.StagedBlob;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * This node's entry to the catalog (DESIGN.md "Registry"). It commits an ingested image to Storage, writes its
 * catalog entry to a majority of nodes, publishes {@link ImageStored}, and only then answers the gateway —
 * acknowledged means durable (issue 3, point 6). Reads are answered from this node's replicas of the catalog
 * and of the tracker's registrations; a lookup that misses locally asks a majority.
 *
 * <p>The catalog lives in {@link CatalogShards#COUNT} Distributed Data keys ({@link CatalogShards}). Writes are
 * batched per key: while one write of a key is in flight, the next entries of that key queue and go out
 * together, and writes of different keys run side by side, so Distributed Data does not bound ingest.
 */
public final class Registry {

  /** Messages of the Registry. */
  public sealed interface Command {}

  /**
   * Makes a staged image a catalog entry.
   *
   * @param staged   the fsynced temp file from {@link Upload}
   * @param filename the client's name for it, or empty to use the stored file's name (P1)
   * @param uploader P2 user name, {@code tcp:<ip>}, {@code http:<ip>}
   * @param protocol how it entered
   * @param replyTo  receives {@link Ingested} once the entry is on a majority, or {@link IngestFailed}
   */
  public record Ingest(StagedBlob staged, Optional<String> filename, String uploader, SourceProtocol protocol,
                       ActorRef<IngestResult> replyTo) implements Command {}

  /** The result of {@link Ingest}. */
  public sealed interface IngestResult {}

  /** The image is durable and listed. */
  public record Ingested(CatalogEntry entry) implements IngestResult {}

  /** Nothing was stored; {@code reason} is a short English explanation. */
  public record IngestFailed(String reason) implements IngestResult {}

  /** Reason of an {@link IngestFailed} on a node that does not reach a majority (HTTP answers it with 503). */
  public static final String NO_MAJORITY = "this node cannot reach a majority of the cluster; try another node";

  /** The oldest entry with this md5 (P3/P4 id); answered with {@link Found}. */
  public record FindByMd5(String md5, ActorRef<Found> replyTo) implements Command {}

  /** The oldest entry with this filename (P2 DOWNLOAD/VIEW, PROTOCOLS.md P2); answered with {@link Found}. */
  public record FindByFilename(String filename, ActorRef<Found> replyTo) implements Command {}

  /** The entry with this catalog id, from this node's replica; answered with {@link Found}. */
  public record FindById(String id, ActorRef<Found> replyTo) implements Command {}

  /** Every entry in upload order (P2 LIST). */
  public record ListUploads(ActorRef<Entries> replyTo) implements Command {}

  /** The newest {@code count} entries, oldest of them first (P2 HISTORY). */
  public record Latest(int count, ActorRef<Entries> replyTo) implements Command {}

  /** A page of entries, newest first, after the entry with id {@code afterId} (HTTP API). */
  public record ListImages(int limit, Optional<String> afterId, ActorRef<Entries> replyTo) implements Command {}

  /** Every image of the network with its holders, newest first (P3 LST, see {@link LstListing}). */
  public record ListHolders(ActorRef<Holders> replyTo) implements Command {}

  /** Every legacy peer's registration (HTTP API). */
  public record ListPeers(ActorRef<Peers> replyTo) implements Command {}

  /**
   * Replaces the replica set of {@code entry} (self-repair, {@link Repair}, {@link Scrub}); a majority write,
   * answered with {@link ReplicasUpdated}. An entry that is gone meanwhile stays gone.
   *
   * @param entry    the entry as the caller read it (its id and md5 name the entry and its catalog key)
   * @param replicas the new replica set
   */
  public record UpdateReplicas(CatalogEntry entry, List<Replica> replicas, ActorRef<ReplicasUpdated> replyTo)
      implements Command {}

  /** Answer to {@link UpdateReplicas}; {@code ok} is false when no majority confirmed it. */
  public record ReplicasUpdated(boolean ok) {}

  /**
   * Answered with {@link Drained} once no upload is between arrival and acknowledgement on this node: the node
   * is leaving, and CoordinatedShutdown lets uploads in flight finish before it goes (issue 4 point 3).
   */
  public record Drain(ActorRef<Drained> replyTo) implements Command {}

  /** Answer to {@link Drain}. */
  public enum Drained { INSTANCE }

  /** Images and bytes held per node, for the cluster view; answered with {@link Stats}. */
  public record GetStats(ActorRef<Stats> replyTo) implements Command {}

  /**
   * Catalog totals.
   *
   * @param images      catalog entries
   * @param bytes       their bytes, counted once per entry
   * @param perHost     host → replicas it holds
   * @param bytesByHost host → bytes of the replicas it holds
   */
  public record Stats(long images, long bytes, Map<String, Long> perHost, Map<String, Long> bytesByHost) {}

  /** Answer to a lookup: the entry, or empty. */
  public record Found(Optional<CatalogEntry> entry) {}

  /** Answer to a listing of catalog entries, in the order the request names. */
  public record Entries(List<CatalogEntry> entries) {}

  /** Answer to {@link ListHolders}. */
  public record Holders(List<ListedImage> images) {}

  /** Answer to {@link ListPeers}. */
  public record Peers(List<PeerRegistration> registrations) {}

  /** From {@link Ingestion}: how placing {@code ingest} on its replicas ended. */
  record PlacementDone(Ingest ingest, Instant receivedAt, Ingestion.Result result) implements Command {}

  private record Pending(CatalogEntry entry, ActorRef<IngestResult> replyTo) {}

  private record CatalogWritten(int shard, List<Pending> batch,
                                Replicator.UpdateResponse<LWWMap<String, CatalogEntry>> rsp) implements Command {}

  private record CatalogChanged(int shard, LWWMap<String, CatalogEntry> catalog) implements Command {}

  private record TrackerChanged(LWWMap<String, PeerRegistration> registrations) implements Command {}

  /** A lookup that missed this node's replica, waiting for the majority reads of the keys it may live in. */
  private static final class PendingRead {
    final Function<CatalogView, Optional<CatalogEntry>> query;
    final ActorRef<Found> replyTo;
    int outstanding;

    PendingRead(Function<CatalogView, Optional<CatalogEntry>> query, ActorRef<Found> replyTo, int outstanding) {
      this.query = query;
      this.replyTo = replyTo;
      this.outstanding = outstanding;
    }
  }

  private record MajorityRead(PendingRead read, int shard, Replicator.GetResponse<LWWMap<String, CatalogEntry>> rsp)
      implements Command {}

  private enum Ignored implements Command { INSTANCE }

  /** Timer: publish the catalog totals to the metrics gauges (at most once per {@link #STATS_INTERVAL}). */
  private enum PublishStats implements Command { INSTANCE }

  private static final Duration STATS_INTERVAL = Duration.ofMillis(500);

  private record ReplicasWritten(UpdateReplicas request, boolean ok) implements Command {}

  /** The tracker's replicated registrations: {@code ip:port} → registration (written only by {@link Tracker}). */
  public static final Key<LWWMap<String, PeerRegistration>> TRACKER = LWWMapKey.create("tracker");

  /**
   * @param settings this node's settings
   * @param storage  this node's Storage
   * @param transfer this node's Transfer, which copies images to the other replicas
   * @param topic    the cluster-wide {@code image-stored} topic
   */
  public static Behavior<Command> create(NodeSettings settings, ActorRef<Storage.Command> storage,
                                         ActorRef<Transfer.Command> transfer,
                                         ActorRef<Topic.Command<ImageStored>> topic) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> DistributedData.withReplicatorMessageAdapter(
        (ReplicatorMessageAdapter<Command, LWWMap<String, CatalogEntry>> catalog) ->
            new Registry(ctx, timers, settings, storage, transfer, topic, catalog).behavior())));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final NodeSettings settings;
  private final ActorRef<Storage.Command> storage;
  private final ActorRef<Transfer.Command> transfer;
  private final ActorRef<Topic.Command<ImageStored>> topic;
  private final ReplicatorMessageAdapter<Command, LWWMap<String, CatalogEntry>> catalog;
  private final SelfUniqueAddress self;
  private final NodeMetrics metrics;
  private final String selfAddress;
  private final CatalogView view = new CatalogView();
  private Map<String, PeerRegistration> peers = Map.of();
  /** Entries waiting for their key's write, per shard; a shard is in {@code writing} while its write runs. */
  private final Map<Integer, List<Pending>> queued = new HashMap<>();
  private final Set<Integer> writing = new HashSet<>();
  /** The composed LST listing and the up hosts it was composed for; null when the catalog or peers changed. */
  private List<ListedImage> listing;
  private Set<String> listingUpHosts = Set.of();
  /** The catalog totals, or null when the catalog changed since they were counted. */
  private Stats stats;
  private int inFlight;
  private final List<ActorRef<Drained>> drainers = new ArrayList<>();

  private Registry(ActorContext<Command> ctx, TimerScheduler<Command> timers, NodeSettings settings,
                   ActorRef<Storage.Command> storage,
                   ActorRef<Transfer.Command> transfer, ActorRef<Topic.Command<ImageStored>> topic,
                   ReplicatorMessageAdapter<Command, LWWMap<String, CatalogEntry>> catalog) {
    this.ctx = ctx;
    this.timers = timers;
    this.settings = settings;
    this.storage = storage;
    this.transfer = transfer;
    this.topic = topic;
    this.catalog = catalog;
    this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.metrics = NodeMetrics.get(ctx.getSystem());
    this.selfAddress = ctx.getSystem().address().toString();
    // One adapter for both subscriptions: an actor has one message adapter per message class, so a second
    // ReplicatorMessageAdapter.subscribe would silently replace the first.
    ActorRef<Replicator.SubscribeResponse<LWWMap<String, ?>>> changes =
        ctx.messageAdapter(subscribeResponseClass(), Registry::onChange);
    var replicator = DistributedData.get(ctx.getSystem()).replicator();
    for (var key : CatalogShards.keys()) replicator.tell(new Replicator.Subscribe<>(key, narrow(changes)));
    replicator.tell(new Replicator.Subscribe<>(TRACKER, narrow(changes)));
  }

  @SuppressWarnings("unchecked")
  private static Command onChange(Replicator.SubscribeResponse<LWWMap<String, ?>> rsp) {
    if (rsp instanceof Replicator.Changed<LWWMap<String, ?>> changed) {
      int shard = CatalogShards.shardOfKey(changed.key());
      if (shard >= 0) {
        return new CatalogChanged(shard, (LWWMap<String, CatalogEntry>) (LWWMap<String, ?>) changed.dataValue());
      }
      if (changed.key().equals(TRACKER)) {
        return new TrackerChanged((LWWMap<String, PeerRegistration>) (LWWMap<String, ?>) changed.dataValue());
      }
    }
    return Ignored.INSTANCE;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Class<Replicator.SubscribeResponse<LWWMap<String, ?>>> subscribeResponseClass() {
    return (Class) Replicator.SubscribeResponse.class;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static <T extends org.apache.pekko.cluster.ddata.ReplicatedData> ActorRef<Replicator.SubscribeResponse<T>>
      narrow(ActorRef<Replicator.SubscribeResponse<LWWMap<String, ?>>> ref) {
    return (ActorRef) ref;
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(Ingest.class, this::onIngest)
        .onMessage(PlacementDone.class, this::onPlacementDone)
        .onMessage(CatalogWritten.class, this::onCatalogWritten)
        .onMessage(CatalogChanged.class, m -> {
          if (view.replaceShard(m.shard(), m.catalog().getEntries())) catalogChanged();
          return Behaviors.same();
        })
        .onMessage(PublishStats.class, m -> {
          Stats totals = stats();
          metrics.catalog(totals.images(), totals.perHost().getOrDefault(settings.host(), 0L),
              totals.bytesByHost().getOrDefault(settings.host(), 0L));
          return Behaviors.same();
        })
        .onMessage(TrackerChanged.class, m -> {
          peers = Map.copyOf(m.registrations().getEntries());
          listing = null;
          return Behaviors.same();
        })
        .onMessage(FindByMd5.class, m -> find(v -> v.byMd5(m.md5()), shardsOf(m.md5()), m.replyTo()))
        .onMessage(FindByFilename.class, m -> find(v -> v.byFilename(m.filename()), ALL_SHARDS, m.replyTo()))
        .onMessage(MajorityRead.class, this::onMajorityRead)
        .onMessage(FindById.class, m -> reply(m.replyTo(), new Found(view.byId(m.id()))))
        .onMessage(ListUploads.class, m -> reply(m.replyTo(), new Entries(view.uploadOrder())))
        .onMessage(Latest.class, m -> reply(m.replyTo(), new Entries(view.latest(m.count()))))
        .onMessage(ListImages.class, m -> reply(m.replyTo(),
            new Entries(view.newestFirst(m.limit(), m.afterId()))))
        .onMessage(ListHolders.class, m -> reply(m.replyTo(), new Holders(listing())))
        .onMessage(UpdateReplicas.class, this::onUpdateReplicas)
        .onMessage(Drain.class, m -> {
          drainers.add(m.replyTo());
          answerDrainers();
          return Behaviors.same();
        })
        .onMessage(GetStats.class, m -> reply(m.replyTo(), stats()))
        .onMessage(ListPeers.class, m -> reply(m.replyTo(), new Peers(List.copyOf(peers.values()))))
        .onMessage(Ignored.class, m -> Behaviors.same())
        .onMessage(ReplicasWritten.class, this::onReplicasWritten)
        .build();
  }

  private static final List<Integer> ALL_SHARDS =
      java.util.stream.IntStream.range(0, CatalogShards.COUNT).boxed().toList();

  /** The one key an md5 lives in; none for a string that is not an md5 (no entry can match it). */
  private static List<Integer> shardsOf(String md5) {
    try {
      return List.of(CatalogShards.shardOf(md5));
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      return List.of();
    }
  }

  /** The view changed: the LST listing and the totals are stale; the gauges catch up within a stats interval. */
  private void catalogChanged() {
    listing = null;
    stats = null;
    if (!timers.isTimerActive(PublishStats.INSTANCE)) {
      timers.startSingleTimer(PublishStats.INSTANCE, STATS_INTERVAL);
    }
  }

  /**
   * The LST listing, composed again only after the catalog, the peers or the set of up nodes changed: an LST
   * costs a lookup, not a walk over the catalog (README "Benchmarks").
   */
  private List<ListedImage> listing() {
    Set<String> upHosts = ClusterView.upHosts(ctx.getSystem());
    if (listing == null || !upHosts.equals(listingUpHosts)) {
      listing = LstListing.compose(view.uploadOrder(), peers.values(), upHosts, settings.p4Port());
      listingUpHosts = upHosts;
    }
    return listing;
  }

  private Behavior<Command> onUpdateReplicas(UpdateReplicas m) {
    String id = m.entry().id();
    catalog.askUpdate(
        replyTo -> new Replicator.Update<>(CatalogShards.keyOf(m.entry().md5()), LWWMap.create(),
            new Replicator.WriteMajority(settings.catalogWriteTimeout()), replyTo, map -> {
              var current = map.get(id);
              return current.isDefined() ? map.put(self, id, current.get().withReplicas(m.replicas())) : map;
            }),
        rsp -> new ReplicasWritten(m, rsp instanceof Replicator.UpdateSuccess));
    return Behaviors.same();
  }

  private Behavior<Command> onReplicasWritten(ReplicasWritten m) {
    // Read-your-writes here at once: the subscription would only catch up a notification interval later.
    if (m.ok()) {
      view.byId(m.request().entry().id()).ifPresent(e -> {
        view.put(e.withReplicas(m.request().replicas()));
        catalogChanged();
      });
    }
    m.request().replyTo().tell(new ReplicasUpdated(m.ok()));
    return Behaviors.same();
  }

  private Stats stats() {
    if (stats == null) stats = countStats();
    return stats;
  }

  private Stats countStats() {
    long images = 0;
    long bytes = 0;
    Map<String, Long> perHost = new java.util.TreeMap<>();
    Map<String, Long> bytesByHost = new java.util.TreeMap<>();
    for (CatalogEntry e : view.uploadOrder()) {
      images++;
      bytes += e.size();
      for (Replica r : e.replicas()) {
        perHost.merge(r.host(), 1L, Long::sum);
        bytesByHost.merge(r.host(), e.size(), Long::sum);
      }
    }
    return new Stats(images, bytes, perHost, bytesByHost);
  }

  private <T> Behavior<Command> reply(ActorRef<T> replyTo, T value) {
    replyTo.tell(value);
    return Behaviors.same();
  }

  private Behavior<Command> onIngest(Ingest m) {
    if (!ClusterView.reachesMajority(ctx.getSystem())) {
      // The minority side of a partition: nothing it writes could be confirmed, and a local write that a
      // crash keeps could come back when the node rejoins. Refuse before anything is stored.
      storage.tell(new Storage.Discard(m.staged()));
      m.replyTo().tell(new IngestFailed(NO_MAJORITY));
      metrics.upload(m.protocol(), false, Duration.ZERO);
      metrics.error("no_majority");
      return Behaviors.same();
    }
    inFlight++;
    Instant receivedAt = Instant.now();
    // The result comes back as a PlacementDone that carries its own request: a message adapter per upload
    // would be replaced by the next one (one adapter per message class), mixing up concurrent uploads.
    ctx.spawnAnonymous(Ingestion.create(m, receivedAt, settings, storage, transfer, ctx.getSelf()));
    return Behaviors.same();
  }

  private Behavior<Command> onPlacementDone(PlacementDone m) {
    if (m.result() instanceof Ingestion.Failed f) {
      ctx.getLog().warn("Image {} not stored: {}", m.ingest().staged().md5(), f.reason());
      finish(m.ingest().replyTo(), new IngestFailed(f.reason()), m.ingest().protocol(),
          m.receivedAt().toEpochMilli());
      return Behaviors.same();
    }
    List<Replica> replicas = ((Ingestion.Placed) m.result()).replicas();
    StagedBlob staged = m.ingest().staged();
    String firstPath = replicas.get(0).relativePath();
    String storedName = firstPath.substring(firstPath.lastIndexOf('/') + 1);
    CatalogEntry entry = new CatalogEntry(UUID.randomUUID().toString(), staged.md5(), staged.sha256(),
        staged.size(), staged.format().mediaType(), staged.width(), staged.height(),
        m.ingest().filename().orElse(storedName), m.ingest().uploader(), m.ingest().protocol(),
        m.receivedAt().toEpochMilli(), replicas);
    int shard = CatalogShards.shardOf(entry.md5());
    queued.computeIfAbsent(shard, s -> new ArrayList<>()).add(new Pending(entry, m.ingest().replyTo()));
    writeQueued(shard);
    return Behaviors.same();
  }

  private void finish(ActorRef<IngestResult> replyTo, IngestResult result, SourceProtocol protocol,
                      long receivedAtMillis) {
    replyTo.tell(result);
    metrics.upload(protocol, result instanceof Ingested,
        Duration.ofMillis(Math.max(0, System.currentTimeMillis() - receivedAtMillis)));
    inFlight--;
    answerDrainers();
  }

  private void answerDrainers() {
    if (inFlight > 0) return;
    drainers.forEach(d -> d.tell(Drained.INSTANCE));
    drainers.clear();
  }

  private void writeQueued(int shard) {
    if (writing.contains(shard) || !queued.containsKey(shard)) return;
    List<Pending> batch = queued.remove(shard);
    writing.add(shard);
    catalog.askUpdate(
        replyTo -> new Replicator.Update<>(CatalogShards.keys().get(shard), LWWMap.create(),
            new Replicator.WriteMajority(settings.catalogWriteTimeout()), replyTo, map -> {
              LWWMap<String, CatalogEntry> updated = map;
              for (Pending p : batch) updated = updated.put(self, p.entry().id(), p.entry());
              return updated;
            }),
        rsp -> new CatalogWritten(shard, batch, rsp));
  }

  private Behavior<Command> onCatalogWritten(CatalogWritten m) {
    writing.remove(m.shard());
    if (m.rsp() instanceof Replicator.UpdateSuccess) {
      for (Pending p : m.batch()) {
        view.put(p.entry());
        catalogChanged();
        topic.tell(Topic.publish(new ImageStored(p.entry())));
        finish(p.replyTo(), new Ingested(p.entry()), p.entry().protocol(), p.entry().receivedAt());
      }
    } else {
      // Not confirmed by a majority: take the entries back out and remove the files, so nothing the client
      // was not told about stays visible (issue 3, point 6).
      ctx.getLog().warn("Catalog write of {} entries failed: {}", m.batch().size(), m.rsp());
      catalog.askUpdate(
          replyTo -> new Replicator.Update<>(CatalogShards.keys().get(m.shard()), LWWMap.create(),
              Replicator.writeLocal(), replyTo, map -> {
            LWWMap<String, CatalogEntry> updated = map;
            for (Pending p : m.batch()) updated = updated.remove(self, p.entry().id());
            return updated;
          }),
          rsp -> Ignored.INSTANCE);
      for (Pending p : m.batch()) {
        view.remove(p.entry().id());
        catalogChanged();
        for (Replica r : p.entry().replicas()) transfer.tell(new Transfer.Drop(r.node(), r.relativePath()));
        finish(p.replyTo(), new IngestFailed("the catalog write was not confirmed by a majority of nodes"),
            p.entry().protocol(), p.entry().receivedAt());
      }
    }
    writeQueued(m.shard());
    return Behaviors.same();
  }

  /**
   * Answers {@code query} from this node's replica; when it finds nothing, reads {@code shards} from a majority
   * first (the entry may have been written on other nodes a moment ago and not have reached this replica yet).
   */
  private Behavior<Command> find(Function<CatalogView, Optional<CatalogEntry>> query, List<Integer> shards,
                                 ActorRef<Found> replyTo) {
    Optional<CatalogEntry> local = query.apply(view);
    if (local.isPresent() || shards.isEmpty()) {
      replyTo.tell(new Found(local));
      return Behaviors.same();
    }
    PendingRead read = new PendingRead(query, replyTo, shards.size());
    for (int shard : shards) {
      catalog.askGet(
          r -> new Replicator.Get<>(CatalogShards.keys().get(shard),
              new Replicator.ReadMajority(settings.catalogReadTimeout()), r),
          rsp -> new MajorityRead(read, shard, rsp));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onMajorityRead(MajorityRead m) {
    if (m.rsp() instanceof Replicator.GetSuccess<LWWMap<String, CatalogEntry>> ok
        && view.replaceShard(m.shard(), ok.dataValue().getEntries())) {
      catalogChanged();
    }
    if (--m.read().outstanding == 0) m.read().replyTo.tell(new Found(m.read().query.apply(view)));
    return Behaviors.same();
  }
}
