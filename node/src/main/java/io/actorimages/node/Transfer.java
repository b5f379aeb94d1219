package io.actorimages.node;

import io.actorimages.messages.CatalogEntry;
import io.actorimages.messages.CborSerializable;
import io.actorimages.messages.Replica;
import io.actorimages.storage.BlobStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.FileIO;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;

/**
 * Moves an image's bytes between nodes (DESIGN.md "Transfer"). {@link Open} gives a gateway a stream of an
 * image's bytes: from this node's disk when it holds a replica, otherwise pulled from a node that does through
 * a {@link SourceRef} (Pekko StreamRefs: back-pressured, in {@value #CHUNK_BYTES}-byte chunks, well under
 * Artery's 256 KiB frame). Runs on the blocking-io dispatcher because it checks files on disk.
 */
public final class Transfer {

  /** Messages of Transfer. */
  public sealed interface Command {}

  /** Local request: a stream of {@code entry}'s bytes, answered with {@link Opened} or {@link OpenFailed}. */
  public record Open(CatalogEntry entry, ActorRef<OpenResult> replyTo) implements Command {}

  /** From another node's Transfer: stream this node's copy at {@code relativePath}. */
  public record Fetch(String relativePath, ActorRef<FetchResult> replyTo) implements Command, CborSerializable {}

  /** Answer to {@link Open}. */
  public sealed interface OpenResult {}

  /**
   * The image's bytes; materialize {@code bytes} once. When they come from another node, that node has
   * already opened its file, so they will follow (PROTOCOLS.md P2: never announce bytes not in hand).
   */
  public record Opened(Source<ByteString, NotUsed> bytes) implements OpenResult {}

  /** No node that holds the image could serve it. */
  public record OpenFailed(String reason) implements OpenResult {}

  /** Answer to {@link Fetch}. */
  public sealed interface FetchResult extends CborSerializable {}

  /** The copy's bytes as a stream reference. */
  public record Fetched(SourceRef<ByteString> bytes) implements FetchResult {}

  /** This node has no readable copy at that path. */
  public record FetchFailed(String reason) implements FetchResult {}

  private record Listing(Receptionist.Listing listing) implements Command {}

  private record FetchAnswered(Open open, List<ActorRef<Command>> remaining, FetchResult result)
      implements Command {}

  /** Every node's Transfer registers under this key, so others find it by address. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "transfer");

  /** Bytes per stream element between nodes. */
  public static final int CHUNK_BYTES = 64 * 1024;

  /**
   * @param store    this node's blob store (read only)
   * @param settings this node's settings
   */
  public static Behavior<Command> create(BlobStore store, NodeSettings settings) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(KEY,
          ctx.messageAdapter(Receptionist.Listing.class, Listing::new)));
      return new Transfer(ctx, store, settings).running(Map.of());
    });
  }

  private final ActorContext<Command> ctx;
  private final BlobStore store;
  private final NodeSettings settings;
  private final String selfAddress;

  private Transfer(ActorContext<Command> ctx, BlobStore store, NodeSettings settings) {
    this.ctx = ctx;
    this.store = store;
    this.settings = settings;
    this.selfAddress = ctx.getSystem().address().toString();
  }

  private Behavior<Command> running(Map<String, ActorRef<Command>> byNode) {
    return Behaviors.receive(Command.class)
        .onMessage(Listing.class, m -> {
          Map<String, ActorRef<Command>> next = new HashMap<>();
          for (ActorRef<Command> ref : m.listing().getServiceInstances(KEY)) {
            next.put(ref.path().address().hasGlobalScope() ? ref.path().address().toString() : selfAddress, ref);
          }
          return running(next);
        })
        .onMessage(Open.class, m -> {
          open(m, byNode);
          return Behaviors.same();
        })
        .onMessage(Fetch.class, m -> {
          m.replyTo().tell(fetch(m.relativePath()));
          return Behaviors.same();
        })
        .onMessage(FetchAnswered.class, m -> {
          if (m.result() instanceof Fetched f) {
            m.open().replyTo().tell(new Opened(f.bytes().getSource()));
          } else {
            tryRemote(m.open(), m.remaining());
          }
          return Behaviors.same();
        })
        .build();
  }

  private void open(Open m, Map<String, ActorRef<Command>> byNode) {
    List<ActorRef<Command>> remotes = new ArrayList<>();
    for (Replica r : m.entry().replicas()) {
      if (r.node().equals(selfAddress)) {
        Path path = store.resolve(r.relativePath());
        if (Files.isReadable(path)) {
          m.replyTo().tell(new Opened(FileIO.fromPath(path, CHUNK_BYTES).mapMaterializedValue(x -> NotUsed.getInstance())));
          return;
        }
      } else if (byNode.containsKey(r.node())) {
        remotes.add(byNode.get(r.node()));
      }
    }
    tryRemote(m, remotes);
  }

  private void tryRemote(Open m, List<ActorRef<Command>> remotes) {
    if (remotes.isEmpty()) {
      m.replyTo().tell(new OpenFailed("no reachable node holds " + m.entry().md5()));
      return;
    }
    ActorRef<Command> next = remotes.get(0);
    List<ActorRef<Command>> rest = remotes.subList(1, remotes.size());
    Replica replica = m.entry().replicas().stream()
        .filter(r -> r.node().equals(next.path().address().toString())).findFirst().orElseThrow();
    ctx.ask(FetchResult.class, next, settings.askTimeout(), r -> new Fetch(replica.relativePath(), r),
        (res, err) -> new FetchAnswered(m, List.copyOf(rest),
            err == null ? res : new FetchFailed(err.getMessage())));
  }

  private FetchResult fetch(String relativePath) {
    try {
      Path path = store.resolve(relativePath);
      if (!Files.isReadable(path)) return new FetchFailed("no copy at " + relativePath);
      SourceRef<ByteString> ref = FileIO.fromPath(path, CHUNK_BYTES)
          .runWith(StreamRefs.sourceRef(), ctx.getSystem());
      return new Fetched(ref);
    } catch (IllegalArgumentException e) {
      return new FetchFailed("invalid path: " + relativePath);
    }
  }
}
