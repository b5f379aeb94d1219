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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * This node's entry to the catalog (DESIGN.md "Registry"). It commits an ingested image to Storage, writes its
 * catalog entry to a majority of nodes (batched: while one write is in flight the next entries queue and go
 * out together, so Distributed Data does not bound ingest), publishes {@link ImageStored}, and only then
 * answers the gateway — acknowledged means durable (issue 3, point 6). Reads are answered from this node's
 * replicas of the catalog and of the tracker's registrations; a lookup that misses locally asks a majority.
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
   * Replaces the replica set of entry {@code id} (self-repair, {@link Repair}); a majority write, answered with
   * {@link ReplicasUpdated}. An entry that is gone meanwhile stays gone.
   */
  public record UpdateReplicas(String id, List<Replica> replicas, ActorRef<ReplicasUpdated> replyTo)
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

  private record CatalogWritten(List<Pending> batch, Replicator.UpdateResponse<LWWMap<String, CatalogEntry>> rsp)
      implements Command {}

  private record CatalogChanged(LWWMap<String, CatalogEntry> catalog) implements Command {}

  private record TrackerChanged(LWWMap<String, PeerRegistration> registrations) implements Command {}

  private record MajorityRead(Function<CatalogView, Optional<CatalogEntry>> query, ActorRef<Found> replyTo,
                              Replicator.GetResponse<LWWMap<String, CatalogEntry>> rsp) implements Command {}

  private enum Ignored implements Command { INSTANCE }

  private record ReplicasWritten(UpdateReplicas request, boolean ok) implements Command {}

  /** The replicated catalog: catalog id → entry. */
  public static final Key<LWWMap<String, CatalogEntry>> CATALOG = LWWMapKey.create("catalog");

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
    return Behaviors.setup(ctx -> DistributedData.withReplicatorMessageAdapter(
        (ReplicatorMessageAdapter<Command, LWWMap<String, CatalogEntry>> catalog) ->
            new Registry(ctx, settings, storage, transfer, topic, catalog).behavior()));
  }

  private final ActorContext<Command> ctx;
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
  private List<Pending> queued = new ArrayList<>();
  private boolean writing;
  private int inFlight;
  private final List<ActorRef<Drained>> drainers = new ArrayList<>();

  private Registry(ActorContext<Command> ctx, NodeSettings settings, ActorRef<Storage.Command> storage,
                   ActorRef<Transfer.Command> transfer, ActorRef<Topic.Command<ImageStored>> topic,
                   ReplicatorMessageAdapter<Command, LWWMap<String, CatalogEntry>> catalog) {
    this.ctx = ctx;
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
    replicator.tell(new Replicator.Subscribe<>(CATALOG, narrow(changes)));
    replicator.tell(new Replicator.Subscribe<>(TRACKER, narrow(changes)));
  }

  @SuppressWarnings("unchecked")
  private static Command onChange(Replicator.SubscribeResponse<LWWMap<String, ?>> rsp) {
    if (rsp instanceof Replicator.Changed<LWWMap<String, ?>> changed) {
      if (changed.key().equals(CATALOG)) {
        return new CatalogChanged((LWWMap<String, CatalogEntry>) (LWWMap<String, ?>) changed.dataValue());
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
          view.replaceAll(m.catalog().getEntries());
          Stats stats = stats();
          metrics.catalog(stats.images(), stats.perHost().getOrDefault(settings.host(), 0L),
              stats.bytesByHost().getOrDefault(settings.host(), 0L));
          return Behaviors.same();
        })
        .onMessage(TrackerChanged.class, m -> {
          peers = Map.copyOf(m.registrations().getEntries());
          return Behaviors.same();
        })
        .onMessage(FindByMd5.class, m -> find(v -> v.byMd5(m.md5()), m.replyTo()))
        .onMessage(FindByFilename.class, m -> find(v -> v.byFilename(m.filename()), m.replyTo()))
        .onMessage(MajorityRead.class, this::onMajorityRead)
        .onMessage(FindById.class, m -> reply(m.replyTo(), new Found(view.byId(m.id()))))
        .onMessage(ListUploads.class, m -> reply(m.replyTo(), new Entries(view.uploadOrder())))
        .onMessage(Latest.class, m -> reply(m.replyTo(), new Entries(view.latest(m.count()))))
        .onMessage(ListImages.class, m -> reply(m.replyTo(),
            new Entries(view.newestFirst(m.limit(), m.afterId()))))
        .onMessage(ListHolders.class, m -> reply(m.replyTo(), new Holders(
            LstListing.compose(view.uploadOrder(), peers.values(), ClusterView.upHosts(ctx.getSystem()),
                settings.p4Port()))))
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

  private Behavior<Command> onUpdateReplicas(UpdateReplicas m) {
    catalog.askUpdate(
        replyTo -> new Replicator.Update<>(CATALOG, LWWMap.create(),
            new Replicator.WriteMajority(settings.catalogWriteTimeout()), replyTo, map -> {
              var current = map.get(m.id());
              return current.isDefined() ? map.put(self, m.id(), current.get().withReplicas(m.replicas())) : map;
            }),
        rsp -> new ReplicasWritten(m, rsp instanceof Replicator.UpdateSuccess));
    return Behaviors.same();
  }

  private Behavior<Command> onReplicasWritten(ReplicasWritten m) {
    // Read-your-writes here at once: the subscription would only catch up a notification interval later.
    if (m.ok()) view.byId(m.request().id()).ifPresent(e -> view.put(e.withReplicas(m.request().replicas())));
    m.request().replyTo().tell(new ReplicasUpdated(m.ok()));
    return Behaviors.same();
  }

  private Stats stats() {
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
    queued.add(new Pending(entry, m.ingest().replyTo()));
    writeQueued();
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

  private void writeQueued() {
    if (writing || queued.isEmpty()) return;
    List<Pending> batch = queued;
    queued = new ArrayList<>();
    writing = true;
    catalog.askUpdate(
        replyTo -> new Replicator.Update<>(CATALOG, LWWMap.create(),
            new Replicator.WriteMajority(settings.catalogWriteTimeout()), replyTo, map -> {
              LWWMap<String, CatalogEntry> updated = map;
              for (Pending p : batch) updated = updated.put(self, p.entry().id(), p.entry());
              return updated;
            }),
        rsp -> new CatalogWritten(batch, rsp));
  }

  private Behavior<Command> onCatalogWritten(CatalogWritten m) {
    writing = false;
    if (m.rsp() instanceof Replicator.UpdateSuccess) {
      for (Pending p : m.batch()) {
        view.put(p.entry());
        topic.tell(Topic.publish(new ImageStored(p.entry())));
        finish(p.replyTo(), new Ingested(p.entry()), p.entry().protocol(), p.entry().receivedAt());
      }
    } else {
      // Not confirmed by a majority: take the entries back out and remove the files, so nothing the client
      // was not told about stays visible (issue 3, point 6).
      ctx.getLog().warn("Catalog write of {} entries failed: {}", m.batch().size(), m.rsp());
      catalog.askUpdate(
          replyTo -> new Replicator.Update<>(CATALOG, LWWMap.create(), Replicator.writeLocal(), replyTo, map -> {
            LWWMap<String, CatalogEntry> updated = map;
            for (Pending p : m.batch()) updated = updated.remove(self, p.entry().id());
            return updated;
          }),
          rsp -> Ignored.INSTANCE);
      for (Pending p : m.batch()) {
        view.remove(p.entry().id());
        for (Replica r : p.entry().replicas()) transfer.tell(new Transfer.Drop(r.node(), r.relativePath()));
        finish(p.replyTo(), new IngestFailed("the catalog write was not confirmed by a majority of nodes"),
            p.entry().protocol(), p.entry().receivedAt());
      }
    }
    writeQueued();
    return Behaviors.same();
  }

  private Behavior<Command> find(Function<CatalogView, Optional<CatalogEntry>> query, ActorRef<Found> replyTo) {
    Optional<CatalogEntry> local = query.apply(view);
    if (local.isPresent()) {
      replyTo.tell(new Found(local));
    } else {
      // The entry may have been written on other nodes a moment ago and not have reached this replica yet.
      catalog.askGet(
          r -> new Replicator.Get<>(CATALOG, new Replicator.ReadMajority(settings.catalogReadTimeout()), r),
          rsp -> new MajorityRead(query, replyTo, rsp));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onMajorityRead(MajorityRead m) {
    if (m.rsp() instanceof Replicator.GetSuccess<LWWMap<String, CatalogEntry>> ok) {
      view.replaceAll(ok.get(CATALOG).getEntries());
    }
    m.replyTo().tell(new Found(m.query().apply(view)));
    return Behaviors.same();
  }
}
