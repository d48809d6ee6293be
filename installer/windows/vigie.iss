; Vigie for Windows: Inno Setup 6.3+ script. Per-machine install in Program Files, started at every
; user's login, silent-friendly, the IT provider's policy copied from /POLICY="...".
; Build with installer\windows\build_installer.py: it builds the bundle and passes the generated
; defines (version, mutex names, AppUserModelID, paths) to ISCC with /J. See README.md.
#ifndef AppVersion
  #error Build with build_installer.py: it generates the defines this script needs (ISCC /J...).
#endif

[Setup]
; AppId never changes: upgrades and the uninstaller find Vigie by it.
AppId={{5E0C4F61-7D2B-4B8E-9A43-1C7A5F0B9D21}
AppName=Vigie
AppVersion={#AppVersion}
AppVerName=Vigie {#AppVersion}
AppPublisher=Vigie
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\Vigie
DisableDirPage=yes
DisableProgramGroupPage=yes
DisableReadyPage=yes
; Per machine only: Program Files, HKLM, every user.
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
; The agent holds these mutexes (vigie.platform.windows_mutex): Setup and Uninstall wait for it to
; quit. Silent runs cannot ask, so [Code] stops Vigie first (see StopVigie).
AppMutex={#AppMutex}
; AppMutex does the job; the Restart Manager would only add a second, differently worded question.
CloseApplications=no
SetupIconFile={#IconIco}
UninstallDisplayIcon={app}\vigie.exe
UninstallDisplayName=Vigie
OutputDir={#OutputDir}
OutputBaseFilename=vigie-setup-{#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ShowLanguageDialog=no
; A log in %TEMP% on every run (C:\Windows\Temp under SYSTEM): what an RMM needs after a failure.
SetupLogging=yes
#ifdef SignTool
SignTool={#SignTool}
SignedUninstaller=yes
#endif

[Languages]
Name: "fr"; MessagesFile: "compiler:Languages\French.isl"

[Files]
#ifdef SignTool
; Signed at compile time (SmartScreen, and Defender's reputation, look at each executable).
Source: "{#BundleDir}\vigie.exe"; DestDir: "{app}"; Flags: ignoreversion signonce
Source: "{#BundleDir}\vigie-cli.exe"; DestDir: "{app}"; Flags: ignoreversion signonce
Source: "{#BundleDir}\*"; Excludes: "\vigie.exe,\vigie-cli.exe"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
#else
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
#endif
Source: "{#IconPng}"; DestDir: "{app}"; DestName: "vigie.png"; Flags: ignoreversion
; The IT provider's policy: Setup.exe /POLICY="C:\chemin\policy.toml" (a full path). Absent: an
; existing policy.toml is left as it is.
Source: "{param:POLICY}"; DestDir: "{commonappdata}\Vigie"; DestName: "policy.toml"; Flags: external ignoreversion; Check: PolicyGiven

[Dirs]
Name: "{commonappdata}\Vigie"

[Icons]
; The Start menu entry carries the AppUserModelID, so toasts say "Vigie" with its icon.
Name: "{autoprograms}\Vigie"; Filename: "{app}\vigie.exe"; AppUserModelID: "{#AppUserModelId}"; Comment: "Veille sur la sécurité du poste du cabinet"

[Registry]
; Every user's login starts Vigie (README.md says why HKLM\...\Run rather than the Startup folder).
Root: HKLM; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "Vigie"; ValueData: """{app}\vigie.exe"""; Flags: uninsdeletevalue
; Toasts are attributed to "Vigie" for every user from the first one; desktop-notifier writes the
; same key under HKCU at run time (HKCR merges both).
Root: HKLM; Subkey: "Software\Classes\AppUserModelId\{#AppUserModelId}"; ValueType: string; ValueName: "DisplayName"; ValueData: "Vigie"; Flags: uninsdeletekey
Root: HKLM; Subkey: "Software\Classes\AppUserModelId\{#AppUserModelId}"; ValueType: string; ValueName: "IconUri"; ValueData: "{app}\vigie.png"

[Run]
; Interactive install: start Vigie for the user who installed it. Silent installs (RMM, as SYSTEM)
; skip it: Vigie starts at each user's next login.
Filename: "{app}\vigie.exe"; Description: "Démarrer Vigie"; Flags: nowait postinstall skipifsilent runasoriginaluser

[Code]
const
  WaitForQuitMs = 10000;

function PolicyGiven: Boolean;
begin
  Result := ExpandConstant('{param:POLICY}') <> '';
end;

// Silent runs cannot answer AppMutex's question: end Vigie in every session (its state is written
// atomically, a forced stop loses nothing), then wait for its mutexes to go.
procedure StopVigie;
var
  ResultCode, Waited: Integer;
begin
  if not CheckForMutexes('{#AppMutex}') then
    Exit;
  Log('Vigie is running: stopping it (silent mode)');
  // One image per call and no /T: every process of Vigie's is vigie.exe or vigie-cli.exe (its windows
  // too), and Wine's taskkill refuses /T and a second /IM (the upgrade test showed it).
  Exec(ExpandConstant('{sys}\taskkill.exe'), '/F /IM vigie.exe', '', SW_HIDE, ewWaitUntilTerminated, ResultCode);
  Log(Format('taskkill vigie.exe: exit code %d', [ResultCode]));
  Exec(ExpandConstant('{sys}\taskkill.exe'), '/F /IM vigie-cli.exe', '', SW_HIDE, ewWaitUntilTerminated, ResultCode);
  Waited := 0;
  while CheckForMutexes('{#AppMutex}') and (Waited < WaitForQuitMs) do begin
    Sleep(250);
    Waited := Waited + 250;
  end;
  // A window Vigie was starting as it was stopped (the setup assistant at its first start) can appear
  // after the first sweep listed the processes, and would keep vigie.exe in use: a second sweep.
  Sleep(500);
  Exec(ExpandConstant('{sys}\taskkill.exe'), '/F /IM vigie.exe', '', SW_HIDE, ewWaitUntilTerminated, ResultCode);
  Log(Format('second taskkill vigie.exe: exit code %d', [ResultCode]));
end;

function InitializeSetup: Boolean;
begin
  Result := True;
  if PolicyGiven and not FileExists(ExpandConstant('{param:POLICY}')) then begin
    Log('Policy file not found: ' + ExpandConstant('{param:POLICY}'));
    SuppressibleMsgBox('Fichier de politique introuvable : ' + ExpandConstant('{param:POLICY}') + #13#10 +
                       'Donnez son chemin complet : /POLICY="C:\chemin\policy.toml".', mbCriticalError, MB_OK, IDOK);
    Result := False;
    Exit;
  end;
  if WizardSilent then
    StopVigie;  // runs before Setup's own AppMutex check
end;

// %ProgramData%\Vigie: users may read the policy, only SYSTEM and Administrators may change it
// (ProgramData lets users create files by default). SIDs, not names: they are localised.
procedure LockPolicyFolder;
var
  ResultCode: Integer;
begin
  Exec(ExpandConstant('{sys}\icacls.exe'),
       '"' + ExpandConstant('{commonappdata}\Vigie') + '" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F ' +
       '*S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)RX', '', SW_HIDE, ewWaitUntilTerminated, ResultCode);
  Log(Format('icacls on the policy folder: exit code %d', [ResultCode]));
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if CurStep = ssPostInstall then
    LockPolicyFolder;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usAppMutexCheck) and UninstallSilent then
    StopVigie;  // right before Uninstall's own AppMutex check
end;
