package io.nightshift.training.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nightshift.core.NightshiftException;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Map;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * Thin JSON-over-HTTP access to the MLflow server for what the Java client lacks (registry writes, aliases, dataset
 * inputs, proxied artifacts). Non-2xx answers become {@link MlflowApiException} with MLflow's error code and message;
 * refused connections are retried with backoff.
 */
public final class MlflowRest {
  private static final MediaType JSON = MediaType.get("application/json");
  private static final MediaType OCTETS = MediaType.get("application/octet-stream");
  private static final int ATTEMPTS = 4;

  private final HttpUrl base;
  private final OkHttpClient http;
  private final ObjectMapper mapper = new ObjectMapper();

  public MlflowRest(String trackingUri) {
    HttpUrl parsed = HttpUrl.parse(trackingUri);
    if (parsed == null) {
      throw new NightshiftException(
          "Invalid MLflow tracking URI '" + trackingUri + "': expected http(s)://host:port");
    }
    this.base = parsed;
    this.http =
        new OkHttpClient.Builder()
            .connectTimeout(Duration.ofSeconds(10))
            .readTimeout(Duration.ofSeconds(120))
            .writeTimeout(Duration.ofSeconds(120))
            .build();
  }

  public String trackingUri() {
    String s = base.toString();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  ObjectMapper mapper() {
    return mapper;
  }

  /** GET {@code /api/2.0/mlflow/<path>} with query parameters. */
  public JsonNode get(String path, Map<String, String> query) {
    HttpUrl.Builder url = url("api/2.0/mlflow/" + path);
    query.forEach(url::addQueryParameter);
    return json("GET " + path, new Request.Builder().url(url.build()).get().build());
  }

  /** POST a JSON body to {@code /api/2.0/mlflow/<path>}. */
  public JsonNode post(String path, Object body) {
    return json("POST " + path, new Request.Builder().url(url("api/2.0/mlflow/" + path).build()).post(body(body)).build());
  }

  /** PATCH a JSON body to {@code /api/2.0/mlflow/<path>}. */
  public JsonNode patch(String path, Object body) {
    return json("PATCH " + path, new Request.Builder().url(url("api/2.0/mlflow/" + path).build()).patch(body(body)).build());
  }

  /** DELETE with a JSON body (MLflow reads bodies of non-GET methods). */
  public JsonNode delete(String path, Object body) {
    return json("DELETE " + path, new Request.Builder().url(url("api/2.0/mlflow/" + path).build()).delete(body(body)).build());
  }

  /** PUT raw bytes to the artifact proxy: {@code /api/2.0/mlflow-artifacts/artifacts/<artifactPath>}. */
  public void putArtifact(String artifactPath, byte[] content) {
    Request req =
        new Request.Builder()
            .url(artifactUrl(artifactPath))
            .put(RequestBody.create(content, OCTETS))
            .build();
    try (Response r = execute(req)) {
      if (!r.isSuccessful()) {
        throw error("PUT artifact " + artifactPath, r);
      }
    }
  }

  /** GET raw bytes from the artifact proxy. */
  public byte[] getArtifact(String artifactPath) {
    Request req = new Request.Builder().url(artifactUrl(artifactPath)).get().build();
    try (Response r = execute(req)) {
      if (!r.isSuccessful()) {
        throw error("GET artifact " + artifactPath, r);
      }
      ResponseBody body = r.body();
      return body == null ? new byte[0] : body.bytes();
    } catch (IOException e) {
      throw new NightshiftException("Cannot download MLflow artifact " + artifactPath + ": " + e.getMessage(), e);
    }
  }

  private HttpUrl artifactUrl(String artifactPath) {
    HttpUrl.Builder b = url("api/2.0/mlflow-artifacts/artifacts");
    for (String segment : artifactPath.split("/")) {
      if (!segment.isEmpty()) {
        b.addPathSegment(segment);
      }
    }
    return b.build();
  }

  private HttpUrl.Builder url(String path) {
    HttpUrl.Builder b = base.newBuilder();
    for (String segment : path.split("/")) {
      if (!segment.isEmpty()) {
        b.addPathSegment(segment);
      }
    }
    return b;
  }

  private RequestBody body(Object body) {
    try {
      return RequestBody.create(mapper.writeValueAsBytes(body), JSON);
    } catch (IOException e) {
      throw new NightshiftException("Cannot serialize MLflow request: " + e.getMessage(), e);
    }
  }

  private JsonNode json(String call, Request req) {
    try (Response r = execute(req)) {
      if (!r.isSuccessful()) {
        throw error(call, r);
      }
      ResponseBody body = r.body();
      String text = body == null ? "" : body.string();
      return text.isBlank() ? mapper.createObjectNode() : mapper.readTree(text);
    } catch (IOException e) {
      throw new NightshiftException("MLflow " + call + " returned an unreadable answer: " + e.getMessage(), e);
    }
  }

  private Response execute(Request req) {
    IOException last = null;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        return http.newCall(req).execute();
      } catch (ConnectException e) {
        last = e; // nothing reached the server: safe to retry any method
        sleep(500L << (attempt - 1));
      } catch (IOException e) {
        throw new NightshiftException(
            "MLflow " + req.method() + " " + req.url().encodedPath() + " failed: " + e.getMessage(), e);
      }
    }
    throw new NightshiftException(
        "Cannot reach the MLflow server at " + trackingUri() + " after " + ATTEMPTS + " attempts ("
            + last.getMessage() + "). Fix: start it (scripts/mlflow.sh start) or set MLFLOW_TRACKING_URI.",
        last);
  }

  private MlflowApiException error(String call, Response r) {
    String code = "HTTP_" + r.code();
    String message = r.message();
    try {
      ResponseBody body = r.body();
      String text = body == null ? "" : body.string();
      message = text;
      JsonNode node = mapper.readTree(text);
      if (node != null && node.has("error_code")) {
        code = node.get("error_code").asText();
        message = node.path("message").asText(text);
      }
    } catch (IOException | RuntimeException e) {
      // keep the raw text
    }
    return new MlflowApiException(call, r.code(), code, message);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NightshiftException("Interrupted while retrying an MLflow call", e);
    }
  }

  /** The artifact path inside the proxy for an {@code mlflow-artifacts:} URI, e.g. {@code 1/abc/artifacts}. */
  public static String proxiedPath(String artifactUri) {
    if (!artifactUri.startsWith("mlflow-artifacts:")) {
      throw new NightshiftException(
          "Artifact location " + artifactUri + " is not served by the MLflow server. Fix: start the server with "
              + "--serve-artifacts and without --default-artifact-root (scripts/mlflow.sh does this), and use a new"
              + " experiment.");
    }
    String rest = artifactUri.substring("mlflow-artifacts:".length());
    if (rest.startsWith("//")) {
      int slash = rest.indexOf('/', 2);
      rest = slash < 0 ? "" : rest.substring(slash);
    }
    while (rest.startsWith("/")) {
      rest = rest.substring(1);
    }
    return rest;
  }
}
