DROP TABLE frozen_results;
