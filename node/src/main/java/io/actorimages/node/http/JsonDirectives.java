package io.actorimages.node.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.actorimages.node.Node;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.marshallers.jackson.Jackson;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.function.Function;

/**
 * What the web viewer's routes share with the registry API's conventions (README "HTTP API"): JSON bodies
 * through Jackson, errors as {@code {"status": <code>, "error": "<text>"}} ({@link ApiRoutes.ErrorJson}), asks
 * bounded by {@code ask-timeout}, and a cluster that does not answer in time as 503.
 */
abstract class JsonDirectives extends AllDirectives {

  /** Serializes every body; records are plain Jackson beans. */
  static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  /** The node whose actors the routes ask. */
  final Node node;

  JsonDirectives(Node node) {
    this.node = node;
  }

  /** Asks {@code target} within the node's {@code ask-timeout}. */
  <Q, A> CompletionStage<A> ask(ActorRef<Q> target, Function<ActorRef<A>, Q> message) {
    return AskPattern.ask(target, message, node.settings().askTimeout(), node.system().scheduler());
  }

  /** {@code body} as JSON with {@code status}. */
  Route json(StatusCode status, Object body) {
    return complete(status, body, Jackson.marshaller(JSON));
  }

  /** An error body with {@code status}. */
  Route error(StatusCode status, String message) {
    return json(status, new ApiRoutes.ErrorJson(status.intValue(), message));
  }

  /** Turns failures of {@code inner} into JSON errors; rejections pass on to the routes after it. */
  Route withJsonErrors(java.util.function.Supplier<Route> inner) {
    return handleExceptions(ExceptionHandler.newBuilder()
        .match(TimeoutException.class, e -> error(StatusCodes.SERVICE_UNAVAILABLE,
            "the cluster did not answer in time"))
        .matchAny(e -> error(StatusCodes.INTERNAL_SERVER_ERROR, e.toString()))
        .build(), inner);
  }
}
