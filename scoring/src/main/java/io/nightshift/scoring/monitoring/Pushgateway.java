package io.nightshift.scoring.monitoring;

import io.nightshift.core.NightshiftException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * Pushes a batch job's metrics to a Prometheus Pushgateway ({@code PUT /metrics/job/<job>/<label>/<value>...}): PUT
 * replaces every metric of the group, so a re-run of the same night leaves exactly its own values.
 */
public final class Pushgateway implements MetricsPush {
  static final MediaType TEXT_FORMAT = MediaType.get("text/plain; version=0.0.4; charset=utf-8");
  private final HttpUrl base;
  private final OkHttpClient http;

  public Pushgateway(String url) {
    HttpUrl parsed = HttpUrl.parse(url);
    if (parsed == null) {
      throw io.nightshift.core.Errors.invalidOption(
          "--pushgateway (or NIGHTSHIFT_PUSHGATEWAY_URL)", url, "give an http(s) URL, e.g. http://pushgateway:9091");
    }
    this.base = parsed;
    this.http =
        new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(5)).readTimeout(Duration.ofSeconds(10)).build();
  }

  /** The grouping key of a Nightshift job run: {@code job} plus labels in order. */
  public static Map<String, String> grouping(String job, Map<String, String> labels) {
    Map<String, String> g = new LinkedHashMap<>();
    g.put("job", job);
    g.putAll(labels);
    return g;
  }

  HttpUrl url(Map<String, String> grouping) {
    HttpUrl.Builder b = base.newBuilder().addPathSegment("metrics");
    grouping.forEach(
        (k, v) -> {
          // the Pushgateway's base64 form for values a path cannot carry: empty, with a slash, or "." and ".." (path
          // steps that URL normalization removes or resolves against the segment before)
          if (v.isEmpty() || v.contains("/") || v.equals(".") || v.equals("..")) {
            b.addPathSegment(k + "@base64").addPathSegment(
                v.isEmpty() ? "=" : java.util.Base64.getUrlEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8)));
          } else {
            b.addPathSegment(k).addPathSegment(v);
          }
        });
    return b.build();
  }

  @Override
  public void push(Map<String, String> grouping, String exposition) {
    HttpUrl url = url(grouping);
    Request request = new Request.Builder().url(url).put(RequestBody.create(exposition, TEXT_FORMAT)).build();
    try (Response response = http.newCall(request).execute()) {
      if (!response.isSuccessful()) {
        String body = response.body() == null ? "" : response.body().string();
        throw new NightshiftException(
            "Pushgateway " + url + " answered " + response.code() + ": " + body.strip()
                + ". Fix: check the metric text above the error in the Pushgateway log, or the URL.");
      }
    } catch (IOException e) {
      throw new NightshiftException(
          "Cannot reach the Pushgateway at " + url + " (" + e.getMessage() + "). Fix: check --pushgateway / "
              + "NIGHTSHIFT_PUSHGATEWAY_URL and that the Pushgateway is running.",
          e);
    }
  }

}
