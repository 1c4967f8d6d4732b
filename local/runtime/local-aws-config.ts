/** AWS SDK client config for an emulator at `endpoint`: a fixed region and dummy credentials. */
export const localAwsConfig = (endpoint: string) => ({
  endpoint,
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
