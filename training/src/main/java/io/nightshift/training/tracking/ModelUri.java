package io.nightshift.training.tracking;

import io.nightshift.core.Errors;

/**
 * A reference to a registered model version: {@code NAME@ALIAS} or {@code NAME/VERSION}, optionally prefixed with
 * {@code models:/} as in MLflow.
 */
public record ModelUri(String name, String alias, String version) {
  public static ModelUri parse(String uri) {
    if (uri == null) {
      throw Errors.invalidModelUri("null");
    }
    String s = uri.trim();
    if (s.startsWith("models:/")) {
      s = s.substring("models:/".length());
    }
    int at = s.indexOf('@');
    if (at > 0 && at < s.length() - 1 && s.indexOf('/') < 0) {
      return new ModelUri(s.substring(0, at), s.substring(at + 1), null);
    }
    int slash = s.lastIndexOf('/');
    if (slash > 0 && slash < s.length() - 1 && s.indexOf('@') < 0 && s.substring(slash + 1).matches("\\d+")) {
      return new ModelUri(s.substring(0, slash), null, s.substring(slash + 1));
    }
    throw Errors.invalidModelUri(uri);
  }

  public static ModelUri alias(String name, String alias) {
    return new ModelUri(name, alias, null);
  }

  @Override
  public String toString() {
    return "models:/" + name + (alias != null ? "@" + alias : "/" + version);
  }
}
