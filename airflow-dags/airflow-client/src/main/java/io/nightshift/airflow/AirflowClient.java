package io.nightshift.airflow;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * A client for Airflow 3's REST API ({@code /api/v2}).
 *
 * <ul>
 *   <li>Auth: with {@link Builder#credentials} a JWT from {@code POST /auth/token}, cached and fetched again once when a
 *       call answers 401 (token expired) or 403 "Invalid JWT token" (a token Airflow cannot verify, e.g. after a
 *       restart with another {@code jwt_secret}), not on a 403 that denies the call to the user's role; without
 *       credentials, no {@code Authorization} header (e.g. {@code simple_auth_manager_all_admins}).
 *   <li>Errors: every non-2xx answer becomes an {@link AirflowException} carrying the HTTP status and Airflow's {@code
 *       detail}; 404, 401/403 and 409 have their own subclasses.
 *   <li>Retries: connection failures (and 502/503/504) are retried with exponential backoff; timeouts too, except for
 *       posting asset events, which is not idempotent.
 *   <li>Idempotent triggers: {@link #trigger} always sends a run id, the caller's (see {@link #runIdFor}) or one it
 *       generates once per call; when Airflow answers 409 the run with that id is returned instead, so a POST that is
 *       sent again (after a timeout or a 502/503/504) never starts a second run.
 * </ul>
 *
 * <p>Thread-safe; close it to release OkHttp's threads and connections.
 */
public final class AirflowClient implements AutoCloseable {
  private static final MediaType JSON = MediaType.get("application/json; charset=utf-8");
  private static final ObjectMapper MAPPER =
      new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
  private static final int MAX_LOG_BODY = 500;

  private final HttpUrl base;
  private final OkHttpClient http;
  private final String username;
  private final String password;
  private final int maxAttempts;
  private final Duration backoff;
  private final Object tokenLock = new Object();
  private volatile String token;

  private AirflowClient(Builder b) {
    this.base = b.base;
    this.username = b.username;
    this.password = b.password;
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.backoff;
    OkHttpClient.Builder http = b.http == null ? new OkHttpClient.Builder() : b.http.newBuilder();
    this.http =
        http.connectTimeout(b.connectTimeout)
            .readTimeout(b.readTimeout)
            .writeTimeout(b.readTimeout)
            .retryOnConnectionFailure(false)
            .build();
  }

  /** A builder for a client of the Airflow whose API server is at {@code baseUrl}, e.g. http://127.0.0.1:8080. */
  public static Builder builder(String baseUrl) {
    return new Builder(baseUrl);
  }

  /** The Airflow base URL this client talks to. */
  public String baseUrl() {
    String s = base.toString();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * A deterministic run id for a run of {@code date} with {@code conf}: {@code nightshift__2024-12-31}, plus a short
   * hash of the conf when there is one. Triggering twice with the same inputs names the same run, so the second trigger
   * finds the first run instead of starting another.
   */
  public static String runIdFor(LocalDate date, Map<String, ?> conf) {
    Objects.requireNonNull(date, "date is null");
    String id = "nightshift__" + date;
    if (conf == null || conf.isEmpty()) {
      return id;
    }
    try {
      byte[] canonical = MAPPER.writeValueAsBytes(new TreeMap<>(conf));
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(canonical);
      return id + "__" + HexFormat.of().formatHex(sha, 0, 4);
    } catch (JsonProcessingException | NoSuchAlgorithmException e) {
      throw new IllegalArgumentException("Cannot hash the run conf " + conf + ": " + e.getMessage(), e);
    }
  }

  /** Midnight UTC of {@code date}: the logical date of a Nightshift run for that date. */
  public static OffsetDateTime logicalDateOf(LocalDate date) {
    return date.atStartOfDay().atOffset(ZoneOffset.UTC);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Server and DAGs

  /** {@code GET /api/v2/version}: the Airflow version string, e.g. 3.3.2. */
  public String version() {
    return text(call("GET", url("api", "v2", "version"), null, true, "read the Airflow version"), "version");
  }

  /** {@code GET /api/v2/monitor/health}: component name to status ("healthy", "unhealthy" or "" when absent). */
  public Map<String, String> health() {
    JsonNode h = call("GET", url("api", "v2", "monitor", "health"), null, true, "read Airflow's health");
    Map<String, String> out = new LinkedHashMap<>();
    h.fields().forEachRemaining(e -> out.put(e.getKey(), text(e.getValue(), "status")));
    return out;
  }

  /** {@code GET /api/v2/dags/{dagId}}; {@link AirflowException.NotFound} when Airflow does not know the DAG. */
  public DagInfo getDag(String dagId) {
    return dagInfo(call("GET", url("api", "v2", "dags", dagId), null, true, "read DAG " + dagId));
  }

  /** The ids of the DAGs Airflow knows (up to 1000), for error messages and listings. */
  public List<String> listDagIds() {
    HttpUrl u = url("api", "v2", "dags").newBuilder().addQueryParameter("limit", "1000").build();
    List<String> ids = new ArrayList<>();
    for (JsonNode d : call("GET", u, null, true, "list DAGs").path("dags")) {
      ids.add(d.path("dag_id").asText());
    }
    return ids;
  }

  /** Pauses or unpauses a DAG. Runs of a paused DAG stay queued. */
  public DagInfo setPaused(String dagId, boolean paused) {
    HttpUrl u = url("api", "v2", "dags", dagId).newBuilder().addQueryParameter("update_mask", "is_paused").build();
    ObjectNode body = MAPPER.createObjectNode().put("is_paused", paused);
    return dagInfo(call("PATCH", u, body, true, (paused ? "pause" : "unpause") + " DAG " + dagId));
  }

  /** Unpauses a DAG, so that its queued runs start. */
  public DagInfo unpause(String dagId) {
    return setPaused(dagId, false);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // DAG runs

  /**
   * Triggers a run. When Airflow answers 409 (a run with this run id, or this logical date, exists already) the
   * existing run is returned with {@link DagRun#alreadyExisted()} set, so retrying a trigger is safe; but only when
   * that run has this trigger's logical date and conf: otherwise it is not the run asked for, and a {@link
   * AirflowException.Conflict} names the run and what differs.
   *
   * <p>The POST always carries a run id, so that sending it again after a timeout or a 502/503/504 (when Airflow may
   * have created the run already) finds that run instead of creating a second one. Without a caller's run id it is
   * {@code nightshift__manual__<random UUID>}, chosen once per call: a 409 on it means an earlier attempt of this call
   * created the run, which is then returned as created ({@link DagRun#alreadyExisted()} false).
   *
   * @param runId the run id to create; null for a new run id of this call (every call then starts its own run)
   * @param logicalDate the run's logical date; null for a run without one
   * @param conf the run conf, validated by Airflow against the DAG's params (400 when it does not fit)
   */
  public DagRun trigger(String dagId, String runId, OffsetDateTime logicalDate, Map<String, ?> conf) {
    Objects.requireNonNull(dagId, "dagId is null");
    boolean generated = runId == null;
    String id = generated ? "nightshift__manual__" + UUID.randomUUID() : runId;
    ObjectNode body = MAPPER.createObjectNode().put("dag_run_id", id);
    // The key is required by Airflow 3 (422 without it); null means "no logical date".
    if (logicalDate == null) {
      body.putNull("logical_date");
    } else {
      body.put("logical_date", iso(logicalDate));
    }
    body.set("conf", confTree(conf));
    try {
      return dagRun(call("POST", url("api", "v2", "dags", dagId, "dagRuns"), body, true, "trigger DAG " + dagId), false);
    } catch (AirflowException.Conflict conflict) {
      DagRun run;
      try {
        run = getRun(dagId, id);
      } catch (AirflowException.NotFound ignored) {
        run = null; // the conflict is on the logical date: another run id holds it
      }
      if (run != null && generated) {
        // nobody else knows a generated id: the run is the one an earlier (timed out) attempt of this call created
        return run;
      }
      if (run != null) {
        // a run id names one run: one of another night or conf is not this trigger's run, and returning it would
        // report (and --wait on) a run that never gets the settings asked for
        List<String> differences = new ArrayList<>();
        if (!sameLogicalDate(run.logicalDate(), logicalDate)) {
          differences.add("logical date " + (run.logicalDate() == null ? "none" : run.logicalDate()) + " (not "
              + (logicalDate == null ? "none" : iso(logicalDate)) + ")");
        }
        if (!confTree(conf).equals(confTree(run.conf()))) {
          differences.add("conf " + confTree(run.conf()) + " (not " + confTree(conf) + ")");
        }
        if (!differences.isEmpty()) {
          throw new AirflowException.Conflict(
              "Cannot trigger DAG " + dagId + " as run " + id + " with logical date "
                  + (logicalDate == null ? "none" : iso(logicalDate)) + " and conf " + confTree(conf) + ": run " + id
                  + " (state " + run.state() + ") exists already with " + String.join(" and ", differences)
                  + ", and a run id names one run. Fix: trigger with another run id, or clear run " + id
                  + " to run it again with its own settings",
              conflict.detail());
        }
        return run.existing();
      }
      if (logicalDate != null) {
        DagRun holder = findRunByLogicalDate(dagId, logicalDate);
        if (holder != null) {
          // the same night with the same conf (e.g. triggered from the UI) is this trigger's run; with another conf
          // it is not, and returning it would report a run that never gets the settings asked for
          if (!confTree(conf).equals(confTree(holder.conf()))) {
            throw new AirflowException.Conflict(
                "Cannot trigger DAG " + dagId + " for logical date " + iso(logicalDate) + " with conf "
                    + confTree(conf) + ": run " + holder.runId() + " (state "
                    + holder.state() + ") holds that logical date with conf " + confTree(holder.conf())
                    + ", and Airflow keeps one manual run per logical date. Fix: clear that run to run it again with"
                    + " its conf, or delete it first to run the date with this conf",
                conflict.detail());
          }
          return holder.existing();
        }
      }
      throw conflict;
    }
  }

  private static JsonNode confTree(Map<String, ?> conf) {
    return MAPPER.valueToTree(conf == null ? Map.of() : conf);
  }

  /** Whether Airflow's {@code logical_date} of a run (null: none) is the instant {@code requested} (null: none). */
  private static boolean sameLogicalDate(String existing, OffsetDateTime requested) {
    if (existing == null || requested == null) {
      return existing == null && requested == null;
    }
    try {
      return OffsetDateTime.parse(existing).isEqual(requested);
    } catch (DateTimeParseException e) {
      return existing.equals(iso(requested));
    }
  }

  /** Triggers the Nightshift run of {@code date}: logical date midnight UTC, run id {@link #runIdFor}. */
  public DagRun triggerForDate(String dagId, LocalDate date, Map<String, ?> conf) {
    return trigger(dagId, runIdFor(date, conf), logicalDateOf(date), conf);
  }

  /** {@code GET /api/v2/dags/{dagId}/dagRuns/{runId}}. */
  public DagRun getRun(String dagId, String runId) {
    return dagRun(
        call("GET", url("api", "v2", "dags", dagId, "dagRuns", runId), null, true, "read run " + runId + " of " + dagId),
        false);
  }

  /** The run of {@code dagId} whose logical date is exactly {@code logicalDate}, or null. */
  public DagRun findRunByLogicalDate(String dagId, OffsetDateTime logicalDate) {
    HttpUrl u =
        url("api", "v2", "dags", dagId, "dagRuns").newBuilder()
            .addQueryParameter("logical_date_gte", iso(logicalDate))
            .addQueryParameter("logical_date_lte", iso(logicalDate))
            .addQueryParameter("limit", "1")
            .build();
    JsonNode runs = call("GET", u, null, true, "list runs of " + dagId).path("dag_runs");
    return runs.isEmpty() ? null : dagRun(runs.get(0), false);
  }

  /**
   * Polls the run every {@code pollInterval} until it is {@code success} or {@code failed} and returns it; {@link
   * AirflowException.Timeout} when it is still going after {@code timeout}.
   */
  public DagRun waitForRun(String dagId, String runId, Duration timeout, Duration pollInterval) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      DagRun run = getRun(dagId, runId);
      if (run.isFinished()) {
        return run;
      }
      if (System.nanoTime() + pollInterval.toNanos() > deadline) {
        throw new AirflowException.Timeout(
            String.format(
                "Run %s of %s is still '%s' after %s. Fix: wait longer (raise the timeout) or look at the run in"
                    + " Airflow (%s); a paused DAG keeps its runs queued.",
                runId, dagId, run.state(), human(timeout), baseUrl()));
      }
      sleep(pollInterval);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Task instances and logs

  /** The task instances of a run (mapped tasks appear once per map index). */
  public List<TaskInstance> taskInstances(String dagId, String runId) {
    HttpUrl u =
        url("api", "v2", "dags", dagId, "dagRuns", runId, "taskInstances").newBuilder()
            .addQueryParameter("limit", "1000")
            .build();
    List<TaskInstance> out = new ArrayList<>();
    for (JsonNode t : call("GET", u, null, true, "list tasks of run " + runId + " of " + dagId).path("task_instances")) {
      out.add(taskInstance(t));
    }
    return out;
  }

  /** One task instance of a run (map index -1). */
  public TaskInstance taskInstance(String dagId, String runId, String taskId) {
    return taskInstance(
        call(
            "GET",
            url("api", "v2", "dags", dagId, "dagRuns", runId, "taskInstances", taskId),
            null,
            true,
            "read task " + taskId + " of run " + runId + " of " + dagId));
  }

  /**
   * The log of one try of a task as text, one line per structured log entry ({@code timestamp level event}).
   *
   * @param tryNumber the try (1 = first); 0 means the latest try
   */
  public String taskLog(String dagId, String runId, String taskId, int tryNumber) {
    int attempt = tryNumber > 0 ? tryNumber : taskInstance(dagId, runId, taskId).tryNumber();
    if (attempt < 1) {
      throw new IllegalArgumentException(
          "Task " + taskId + " of run " + runId + " of " + dagId + " has not run yet, so it has no log.");
    }
    HttpUrl u =
        url("api", "v2", "dags", dagId, "dagRuns", runId, "taskInstances", taskId, "logs", Integer.toString(attempt))
            .newBuilder()
            .addQueryParameter("full_content", "true")
            .addQueryParameter("map_index", "-1")
            .build();
    JsonNode log = call("GET", u, null, true, "read the log of " + taskId + " (try " + attempt + ") of run " + runId);
    return renderLog(log.path("content"));
  }

  static String renderLog(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder out = new StringBuilder();
    for (JsonNode entry : content) {
      if (entry.isTextual()) {
        out.append(entry.asText());
      } else if (entry.isArray()) { // older servers: [host, text] pairs
        out.append(entry.get(entry.size() - 1).asText());
      } else {
        String ts = entry.path("timestamp").asText("");
        String level = entry.path("level").asText("");
        String event = entry.path("event").asText("");
        if (!ts.isEmpty()) {
          out.append(ts).append(' ');
        }
        if (!level.isEmpty()) {
          out.append(level.toUpperCase(java.util.Locale.ROOT)).append(' ');
        }
        out.append(event);
        JsonNode error = entry.path("error_detail");
        if (!error.isMissingNode() && !error.isNull()) {
          out.append(' ').append(error);
        }
      }
      out.append('\n');
    }
    return out.toString();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Assets

  /** The id of the active asset whose URI or name is exactly {@code uriOrName}. */
  public long assetId(String uriOrName) {
    for (String filter : new String[] {"uri_pattern", "name_pattern"}) {
      HttpUrl u =
          url("api", "v2", "assets").newBuilder()
              .addQueryParameter(filter, uriOrName)
              .addQueryParameter("limit", "100")
              .build();
      for (JsonNode a : call("GET", u, null, true, "look up asset " + uriOrName).path("assets")) {
        if (uriOrName.equals(a.path("uri").asText()) || uriOrName.equals(a.path("name").asText())) {
          return a.path("id").asLong();
        }
      }
    }
    throw new AirflowException.NotFound(
        "No asset with URI or name '"
            + uriOrName
            + "' in Airflow at "
            + baseUrl()
            + ". Fix: check the URI; an asset exists only once a parsed DAG uses it (as schedule, inlet or outlet).",
        "");
  }

  /**
   * Posts an event on the asset with URI or name {@code uriOrName} (looked up first); DAGs scheduled on it are queued.
   * Needs the OP role. Not retried after a timeout (the event may have been recorded).
   */
  public AssetEvent postAssetEvent(String uriOrName, Map<String, ?> extra) {
    long id = assetId(uriOrName);
    ObjectNode body = MAPPER.createObjectNode().put("asset_id", id);
    body.set("extra", MAPPER.valueToTree(extra == null ? Map.of() : extra));
    return assetEvent(
        call("POST", url("api", "v2", "assets", "events"), body, false, "post an event on asset " + uriOrName));
  }

  /** The newest events (at most {@code limit}) of the asset with URI or name {@code uriOrName}. */
  public List<AssetEvent> assetEvents(String uriOrName, int limit) {
    HttpUrl u =
        url("api", "v2", "assets", "events").newBuilder()
            .addQueryParameter("asset_id", Long.toString(assetId(uriOrName)))
            .addQueryParameter("order_by", "-timestamp")
            .addQueryParameter("limit", Integer.toString(limit))
            .build();
    List<AssetEvent> out = new ArrayList<>();
    for (JsonNode e : call("GET", u, null, true, "list events of asset " + uriOrName).path("asset_events")) {
      out.add(assetEvent(e));
    }
    return out;
  }

  @Override
  public void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // HTTP

  private HttpUrl url(String... segments) {
    HttpUrl.Builder b = base.newBuilder();
    for (String s : segments) {
      Objects.requireNonNull(s, "URL segment is null");
      b.addPathSegment(s);
    }
    return b.build();
  }

  /** Sends one API call (auth, retries) and returns the parsed JSON answer, or throws {@link AirflowException}. */
  private JsonNode call(String method, HttpUrl url, JsonNode body, boolean idempotent, String what) {
    RequestBody requestBody = body == null ? null : RequestBody.create(body.toString(), JSON);
    Request request =
        new Request.Builder().url(url).method(method, requestBody).header("Accept", "application/json").build();
    boolean refreshed = false;
    while (true) {
      Request authorized = username == null ? request : request.newBuilder()
          .header("Authorization", "Bearer " + token()).build();
      try (Response response = execute(authorized, idempotent, what)) {
        String text = readBody(response);
        int code = response.code();
        // Airflow 3 answers 401 "Token Expired" for an expired token, and 403 "Invalid JWT token" for one it cannot
        // verify (its API server restarted with another jwt_secret, or runs processes with a secret each): with
        // credentials, log in again once. A 403 "Forbidden" is the user's role: a new token would change nothing.
        if (username != null && !refreshed && (code == 401 || (code == 403 && invalidToken(text)))) {
          refreshed = true;
          invalidateToken();
          continue;
        }
        if (!response.isSuccessful()) {
          AirflowException e = error(what, code, text);
          if (code == 403 && username != null) {
            throw new AirflowException.AuthFailed(
                e.getMessage() + ". Fix: "
                    + (invalidToken(text)
                        ? "Airflow refused a token it had just issued; give every API server process the same"
                            + " [api_auth] jwt_secret (AIRFLOW__API_AUTH__JWT_SECRET)"
                        : "give Airflow user '" + username + "' a role that allows this"),
                code,
                e.detail());
          }
          throw e;
        }
        if (text.isBlank()) {
          return MAPPER.createObjectNode();
        }
        try {
          return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
          throw new AirflowException(
              "Cannot " + what + ": Airflow answered HTTP " + response.code() + " with a body that is not JSON: "
                  + abbreviate(text),
              response.code(),
              "",
              e);
        }
      }
    }
  }

  /** Whether a 403's {@code detail} says the token is invalid (Airflow 3: "Invalid JWT token"), not the role. */
  private static boolean invalidToken(String body) {
    String d = detail(body).toLowerCase(java.util.Locale.ROOT);
    return d.contains("invalid") && d.contains("token");
  }

  /** Executes with retries on connection failures and 502/503/504; returns the (open) response. */
  private Response execute(Request request, boolean idempotent, String what) {
    IOException last = null;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        sleep(backoffFor(attempt - 1));
      }
      try {
        Response response = http.newCall(request).execute();
        int code = response.code();
        if ((code == 502 || code == 503 || code == 504) && idempotent && attempt < maxAttempts) {
          response.close();
          continue;
        }
        return response;
      } catch (IOException e) {
        last = e;
        if (!retryable(e, idempotent)) {
          break;
        }
      }
    }
    throw new AirflowException.Unavailable(
        "Cannot " + what + ": Airflow at " + baseUrl() + " did not answer " + request.method() + " " + request.url().encodedPath()
            + " (" + describe(last) + ")"
            + (idempotent ? " after " + maxAttempts + " attempts" : "")
            + ". Fix: check that the Airflow API server is running and reachable at " + baseUrl() + ".",
        last);
  }

  private static boolean retryable(IOException e, boolean idempotent) {
    if (e instanceof ConnectException || e instanceof NoRouteToHostException || e instanceof UnknownHostException) {
      return true; // the request never reached Airflow
    }
    return idempotent; // timeouts, resets: the request may have been processed; repeat only what is safe to repeat
  }

  private Duration backoffFor(int retry) {
    long millis = backoff.toMillis() << Math.min(retry - 1, 10);
    return Duration.ofMillis(Math.min(millis, 10_000));
  }

  private String token() {
    synchronized (tokenLock) {
      if (token == null) {
        token = login();
      }
      return token;
    }
  }

  private void invalidateToken() {
    synchronized (tokenLock) {
      token = null;
    }
  }

  private String login() {
    ObjectNode body = MAPPER.createObjectNode().put("username", username).put("password", password);
    Request request =
        new Request.Builder()
            .url(url("auth", "token"))
            .post(RequestBody.create(body.toString(), JSON))
            .header("Accept", "application/json")
            .build();
    String what = "log in to Airflow as '" + username + "'";
    try (Response response = execute(request, true, what)) {
      String text = readBody(response);
      if (response.code() == 401 || response.code() == 403) {
        AirflowException e = error(what, response.code(), text);
        throw new AirflowException.AuthFailed(
            e.getMessage() + ". Fix: check the user name and password (AIRFLOW_USERNAME / AIRFLOW_PASSWORD).",
            response.code(),
            e.detail());
      }
      if (!response.isSuccessful()) {
        throw error(what, response.code(), text);
      }
      String accessToken = text.isBlank() ? "" : parse(text).path("access_token").asText("");
      if (accessToken.isEmpty()) {
        throw new AirflowException(
            "Cannot " + what + ": POST /auth/token answered without an access_token: " + abbreviate(text),
            response.code(),
            "");
      }
      return accessToken;
    }
  }

  private static String readBody(Response response) {
    ResponseBody body = response.body();
    if (body == null) {
      return "";
    }
    try {
      return body.string();
    } catch (IOException e) {
      throw new AirflowException(
          "Cannot read Airflow's answer to " + response.request().method() + " " + response.request().url().encodedPath()
              + ": " + describe(e),
          response.code(),
          "",
          e);
    }
  }

  /** The exception for a non-2xx answer, with Airflow's {@code detail} in the message. */
  static AirflowException error(String what, int code, String body) {
    String detail = detail(body);
    String message = "Cannot " + what + ": Airflow answered HTTP " + code + (detail.isEmpty() ? "" : ": " + detail);
    return switch (code) {
      case 404 -> new AirflowException.NotFound(message, detail);
      case 401, 403 -> new AirflowException.AuthFailed(message, code, detail);
      case 409 -> new AirflowException.Conflict(message, detail);
      default -> new AirflowException(message, code, detail);
    };
  }

  /**
   * Airflow's explanation: FastAPI's {@code detail} (a string, an object, or a list of validation errors rendered as
   * {@code body.logical_date: Field required}); else the start of the body.
   */
  static String detail(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    JsonNode json;
    try {
      json = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      return abbreviate(body.strip());
    }
    JsonNode d = json.path("detail");
    if (d.isMissingNode()) {
      return abbreviate(json.toString());
    }
    if (d.isTextual()) {
      return d.asText();
    }
    if (d.isArray()) {
      List<String> parts = new ArrayList<>();
      for (JsonNode e : d) {
        if (e.has("msg")) {
          List<String> loc = new ArrayList<>();
          e.path("loc").forEach(l -> loc.add(l.asText()));
          parts.add((loc.isEmpty() ? "" : String.join(".", loc) + ": ") + e.path("msg").asText());
        } else {
          parts.add(e.isTextual() ? e.asText() : e.toString());
        }
      }
      return String.join("; ", parts);
    }
    if (d.isObject() && d.has("reason")) {
      return d.path("reason").asText() + (d.has("message") ? ": " + d.path("message").asText() : "");
    }
    return d.toString();
  }

  private static JsonNode parse(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new AirflowException("Airflow answered with a body that is not JSON: " + abbreviate(text), 200, "", e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= MAX_LOG_BODY ? s : s.substring(0, MAX_LOG_BODY) + "...";
  }

  private static String describe(Throwable e) {
    if (e == null) {
      return "no answer";
    }
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AirflowException.Unavailable("Interrupted while waiting to call Airflow again", new InterruptedIOException());
    }
  }

  static String human(Duration d) {
    long s = d.toSeconds();
    if (d.toMillis() % 1000 != 0) {
      return d.toMillis() + "ms";
    }
    return s % 3600 == 0 && s > 0 ? s / 3600 + "h" : s % 60 == 0 && s > 0 ? s / 60 + "m" : s + "s";
  }

  private static String iso(OffsetDateTime t) {
    return t.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.path(field);
    return v.isNull() || v.isMissingNode() ? "" : v.asText();
  }

  private static String nullableText(JsonNode node, String field) {
    JsonNode v = node.path(field);
    return v.isNull() || v.isMissingNode() ? null : v.asText();
  }

  private static DagInfo dagInfo(JsonNode d) {
    return new DagInfo(
        d.path("dag_id").asText(), d.path("is_paused").asBoolean(), d.path("is_stale").asBoolean(), text(d, "fileloc"));
  }

  private static DagRun dagRun(JsonNode r, boolean existed) {
    return new DagRun(
        r.path("dag_id").asText(),
        r.path("dag_run_id").asText(),
        text(r, "state"),
        nullableText(r, "logical_date"),
        nullableText(r, "run_after"),
        nullableText(r, "run_type"),
        toMap(r.path("conf")),
        existed);
  }

  private static TaskInstance taskInstance(JsonNode t) {
    return new TaskInstance(
        t.path("task_id").asText(),
        text(t, "state"),
        t.path("try_number").asInt(0),
        t.path("map_index").asInt(-1),
        nullableText(t, "start_date"),
        nullableText(t, "end_date"),
        t.path("duration").isNumber() ? t.path("duration").asDouble() : null);
  }

  private static AssetEvent assetEvent(JsonNode e) {
    return new AssetEvent(
        e.path("id").asLong(),
        e.path("asset_id").asLong(),
        text(e, "uri"),
        text(e, "name"),
        toMap(e.path("extra")),
        text(e, "timestamp"));
  }

  private static Map<String, Object> toMap(JsonNode node) {
    if (node == null || !node.isObject()) {
      return Map.of();
    }
    return MAPPER.convertValue(node, new TypeReference<LinkedHashMap<String, Object>>() {});
  }

  /** Configuration of an {@link AirflowClient}. */
  public static final class Builder {
    private final HttpUrl base;
    private String username;
    private String password;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration readTimeout = Duration.ofSeconds(60);
    private int maxAttempts = 4;
    private Duration backoff = Duration.ofMillis(500);
    private OkHttpClient http;

    private Builder(String baseUrl) {
      Objects.requireNonNull(baseUrl, "baseUrl is null");
      HttpUrl parsed = HttpUrl.parse(baseUrl);
      if (parsed == null) {
        throw new IllegalArgumentException(
            "Invalid Airflow URL '" + baseUrl + "'. Fix: pass the API server's address, e.g. http://127.0.0.1:8080");
      }
      // Drop a trailing slash so that path segments append cleanly.
      List<String> segments = new ArrayList<>(parsed.pathSegments());
      while (!segments.isEmpty() && segments.get(segments.size() - 1).isEmpty()) {
        segments.remove(segments.size() - 1);
      }
      HttpUrl.Builder b = parsed.newBuilder().encodedPath("/");
      segments.forEach(b::addPathSegment);
      this.base = b.build();
    }

    /** Log in with a user of Airflow's auth manager (JWT from {@code POST /auth/token}). */
    public Builder credentials(String username, String password) {
      this.username = Objects.requireNonNull(username, "username is null");
      this.password = Objects.requireNonNull(password, "password is null");
      return this;
    }

    /** Send no credentials (an Airflow configured with all-admins / no auth). The default. */
    public Builder noAuth() {
      this.username = null;
      this.password = null;
      return this;
    }

    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = Objects.requireNonNull(timeout, "timeout is null");
      return this;
    }

    /** How long to wait for an answer to one call. */
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = Objects.requireNonNull(timeout, "timeout is null");
      return this;
    }

    /** How often a call that met a connection failure is tried in all (default 4), and the first pause (doubling). */
    public Builder retries(int maxAttempts, Duration backoff) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      this.backoff = Objects.requireNonNull(backoff, "backoff is null");
      return this;
    }

    /** A base OkHttp client to derive from (interceptors, TLS, proxies); timeouts are set from this builder. */
    public Builder okHttpClient(OkHttpClient http) {
      this.http = Objects.requireNonNull(http, "http is null");
      return this;
    }

    public AirflowClient build() {
      return new AirflowClient(this);
    }
  }
}
