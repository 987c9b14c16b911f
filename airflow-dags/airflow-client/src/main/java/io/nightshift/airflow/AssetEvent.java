package io.nightshift.airflow;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** An event recorded on an asset (Airflow adds {@code from_rest_api: true} to the extra of events it received). */
public record AssetEvent(long id, long assetId, String uri, String name, Map<String, Object> extra, String timestamp) {
  public AssetEvent {
    extra = extra == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
  }
}
