package io.nightshift.training;

import io.nightshift.core.Warehouse;
import java.time.LocalDate;

/** Public access to {@link TrainingFixtures} for tests in sub-packages. */
public final class TrainingFixturesAccess {
  public static final LocalDate AS_OF = TrainingFixtures.AS_OF;

  private TrainingFixturesAccess() {}

  public static Warehouse warehouse() {
    return TrainingFixtures.warehouse();
  }

  public static ModelSpec quick(ModelSpec spec, int rounds) {
    return TrainingFixtures.quick(spec, rounds);
  }
}
