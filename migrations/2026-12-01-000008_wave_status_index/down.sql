DROP INDEX waves_status;
