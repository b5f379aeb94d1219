package io.actorimages.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * One {@code host:port} the CLI talks to (a node's P1–P4 or HTTP port, a peer's P4 port), and the translation of
 * socket errors into failures that name it.
 *
 * @param host a host name or IP address
 * @param port a TCP or UDP port, 0–65535
 */
record Endpoint(String host, int port) {

  /**
   * Parses {@code host:port} (the last {@code :} separates the port).
   *
   * @throws IllegalArgumentException if there is no port or it is not 0–65535
   */
  static Endpoint parse(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("expected host:port, got " + hostPort);
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port is not a number: " + hostPort);
    }
    if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range: " + hostPort);
    return new Endpoint(hostPort.substring(0, colon), port);
  }

  /** The socket address, resolved now. */
  InetSocketAddress address() {
    return new InetSocketAddress(host, port);
  }

  /**
   * The failure to report for {@code error} met while talking to this endpoint: {@code connection refused: h:p},
   * {@code timed out: h:p}, {@code unknown host: h}, or {@code connection lost: h:p (reason)}; all
   * {@link Exit#CONNECTION}. A {@link CliFailure} passes through unchanged.
   */
  CliFailure failure(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof CliFailure f) return f;
    String what;
    if (unresolved(e)) {
      what = "unknown host: " + host;
    } else if (e instanceof PortUnreachableException) {
      what = "connection refused: " + this;
    } else if (e instanceof SocketTimeoutException || e instanceof HttpTimeoutException
        || e instanceof java.util.concurrent.TimeoutException) {
      what = "timed out: " + this;
    } else if (e instanceof NoRouteToHostException) {
      what = "no route to host: " + this;
    } else if (e instanceof ConnectException) {
      // java.net.http reports a refused connection as a ConnectException without a message.
      String message = e.getMessage();
      what = message == null || message.toLowerCase().contains("refused") ? "connection refused: " + this
          : "cannot connect: " + this + " (" + message + ")";
    } else if (e instanceof IOException) {
      what = "connection lost: " + this + " (" + describe(e) + ")";
    } else {
      what = "connection failed: " + this + " (" + describe(e) + ")";
    }
    return CliFailure.connection(what, error);
  }

  /** Whether the host name did not resolve; java.net.http hides it as the cause of a ConnectException. */
  private static boolean unresolved(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnknownHostException || t instanceof java.nio.channels.UnresolvedAddressException) return true;
    }
    return false;
  }

  private static String describe(Throwable e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  /** {@code host:port}. */
  @Override
  public String toString() {
    return host + ":" + port;
  }
}
